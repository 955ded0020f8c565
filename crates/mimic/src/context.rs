//! The context: whatever the caller knows about where to connect.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use hashbrown::HashMap;

use crate::key::{Key, KeyId};

/// A type-erased value of a context, shared by every clone.
pub(crate) type Value = Arc<dyn Any + Send + Sync>;

#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) type_name: &'static str,
    pub(crate) value: Value,
}

/// A typed heterogeneous map from [`Key`]s to values: what the caller knows.
///
/// Fill it with whatever you have (a host name, a port, a TLS configuration,
/// a socket path...) and hand it to [`Resolver::resolve`](crate::Resolver::resolve).
/// Cloning is cheap (the map is shared behind an `Arc` and copied on the
/// first write to a shared clone), so a base context can be cloned and
/// extended per connection.
///
/// `Debug` shows the names and types of the keys, never the values (they may
/// be secrets such as keys or passwords).
///
/// ```
/// use mimic::Context;
/// use mimic::keys::{HOST, PORT};
///
/// let base = Context::new().with(&HOST, "example.com".to_string());
/// let mut ctx = base.clone();
/// ctx.insert(&PORT, 8443);
/// assert!(ctx.contains(&PORT) && !base.contains(&PORT));
/// assert_eq!(format!("{ctx:?}"), r#"Context { host: alloc::string::String, port: u16 }"#);
/// ```
#[derive(Clone, Default)]
pub struct Context {
    map: Arc<HashMap<KeyId, Entry>>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value`, replacing any value it had.
    pub fn insert<T: Send + Sync + 'static>(&mut self, key: &Key<T>, value: T) -> &mut Self {
        let entry = Entry {
            type_name: std::any::type_name::<T>(),
            value: Arc::new(value),
        };
        Arc::make_mut(&mut self.map).insert(key.id(), entry);
        self
    }

    /// [`insert`](Self::insert), by value, for building a context in one expression.
    pub fn with<T: Send + Sync + 'static>(mut self, key: &Key<T>, value: T) -> Self {
        self.insert(key, value);
        self
    }

    /// The value of `key`, if the context has one.
    pub fn get<T: 'static>(&self, key: &Key<T>) -> Option<&T> {
        self.map.get(&key.id())?.value.downcast_ref()
    }

    /// Whether the context has a value for `key`.
    pub fn contains<T: 'static>(&self, key: &Key<T>) -> bool {
        self.map.contains_key(&key.id())
    }

    /// Removes `key`; says whether it had a value.
    pub fn remove<T: 'static>(&mut self, key: &Key<T>) -> bool {
        if !self.contains(key) {
            return false;
        }
        Arc::make_mut(&mut self.map).remove(&key.id()).is_some()
    }

    /// How many keys have a value.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no key has a value.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub(crate) fn get_erased(&self, id: &KeyId) -> Option<&Entry> {
        self.map.get(id)
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut entries: Vec<_> = self
            .map
            .iter()
            .map(|(id, entry)| (id.name, entry.type_name))
            .collect();
        entries.sort_unstable();
        let mut map = f.debug_struct("Context");
        for (name, type_name) in entries {
            map.field(name, &format_args!("{type_name}"));
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Key<u16> = Key::new("a");
    const B: Key<u16> = Key::new("b");
    const S: Key<String> = Key::new("a");

    #[test]
    fn insert_get_remove_contains() {
        let mut ctx = Context::new();
        assert!(ctx.is_empty());
        ctx.insert(&A, 1).insert(&B, 2).insert(&S, "x".into());
        assert_eq!((ctx.get(&A), ctx.get(&B)), (Some(&1), Some(&2)));
        assert_eq!(ctx.get(&S).map(String::as_str), Some("x"));
        assert_eq!(ctx.len(), 3);
        ctx.insert(&A, 3);
        assert_eq!(ctx.get(&A), Some(&3));
        assert!(ctx.remove(&A));
        assert!(!ctx.remove(&A));
        assert!(!ctx.contains(&A) && ctx.contains(&S));
    }

    #[test]
    fn clones_are_independent_and_share_until_written() {
        let base = Context::new().with(&A, 1);
        let mut copy = base.clone();
        assert!(Arc::ptr_eq(&base.map, &copy.map));
        copy.insert(&B, 2);
        assert!(!Arc::ptr_eq(&base.map, &copy.map));
        assert!(!base.contains(&B));
        assert_eq!(copy.get(&A), Some(&1));
    }

    #[test]
    fn debug_shows_names_not_values() {
        let ctx = Context::new().with(&S, "secret".into()).with(&B, 7);
        let shown = format!("{ctx:?}");
        assert_eq!(shown, "Context { a: alloc::string::String, b: u16 }");
        assert!(!shown.contains("secret"));
    }
}
