//! Typed keys: the names under which a [`Context`](crate::Context) holds values.

use std::any::TypeId;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

/// A typed, named key of a [`Context`](crate::Context).
///
/// A key is its name *and* its type: `Key::<u16>::new("port")` and
/// `Key::<u16>::new("ssh-port")` are two keys, and so are `Key::<u16>::new("port")`
/// and `Key::<String>::new("port")`. Keys are `const`, so they live in
/// `static`s or `const`s next to the code that uses them; namespace the names
/// of your own keys (`"smart.ssh-key"`) so they never meet another crate's.
///
/// ```
/// use mimic::{Context, Key};
///
/// const PORT: Key<u16> = Key::new("port");
/// const SSH_PORT: Key<u16> = Key::new("ssh-port");
///
/// let ctx = Context::new().with(&PORT, 443).with(&SSH_PORT, 22);
/// assert_eq!(ctx.get(&PORT), Some(&443));
/// assert_eq!(ctx.get(&SSH_PORT), Some(&22));
/// ```
pub struct Key<T> {
    name: &'static str,
    _type: PhantomData<fn() -> T>,
}

impl<T> Key<T> {
    /// A key called `name` for values of type `T`.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            _type: PhantomData,
        }
    }

    /// The key's name, as `Debug` of a context and errors show it.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<T: 'static> Key<T> {
    pub(crate) fn id(&self) -> KeyId {
        KeyId {
            type_id: TypeId::of::<T>(),
            name: self.name,
        }
    }
}

impl<T> Clone for Key<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Key<T> {}

impl<T> fmt::Debug for Key<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({:?}: {})", self.name, std::any::type_name::<T>())
    }
}

/// The identity of a key with its type erased: what maps are keyed by.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyId {
    type_id: TypeId,
    pub(crate) name: &'static str,
}

impl PartialEq for KeyId {
    fn eq(&self, other: &Self) -> bool {
        self.type_id == other.type_id && self.name == other.name
    }
}

impl Eq for KeyId {}

impl Hash for KeyId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.type_id.hash(state);
        self.name.hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_and_type_make_the_identity() {
        let a: Key<u16> = Key::new("port");
        let b: Key<u16> = Key::new("ssh-port");
        let c: Key<u32> = Key::new("port");
        assert_eq!(a.id(), Key::<u16>::new("port").id());
        assert_ne!(a.id(), b.id());
        assert_ne!(a.id(), c.id());
        assert_eq!(format!("{a:?}"), "Key(\"port\": u16)");
    }
}
