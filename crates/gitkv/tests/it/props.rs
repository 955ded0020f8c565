//! Property test: random batches against an in-memory map, then reopen.

use std::collections::BTreeMap;

use gitkv::{Batch, Store};
use proptest::prelude::*;

use crate::support::{fsck, git, git_binary, git_keys};

/// Keys all at depth 3 (so no key is a directory of another), from a small
/// alphabet so that batches overwrite and remove each other's keys.
fn key() -> impl Strategy<Value = String> {
    (0..3u8, 0..3u8, 0..4u8).prop_map(|(a, b, c)| format!("d{a}/e{b}/k{c}"))
}

fn change() -> impl Strategy<Value = (String, Option<Vec<u8>>)> {
    (
        key(),
        proptest::option::weighted(0.75, proptest::collection::vec(any::<u8>(), 0..40)),
    )
}

fn batches() -> impl Strategy<Value = Vec<Vec<(String, Option<Vec<u8>>)>>> {
    proptest::collection::vec(proptest::collection::vec(change(), 1..6), 1..12)
}

fn check(store: &Store, model: &BTreeMap<String, Vec<u8>>) -> Result<(), TestCaseError> {
    let keys = store.list("").unwrap();
    prop_assert_eq!(&keys, &model.keys().cloned().collect::<Vec<_>>());
    for (k, v) in model {
        prop_assert_eq!(store.get(k).unwrap(), Some(v.clone()));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_batches_match_a_btreemap(batches in batches()) {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("kv.git");
        let store = Store::open(&repo).unwrap();
        let mut model = BTreeMap::new();
        for (n, changes) in batches.iter().enumerate() {
            let mut batch = Batch::new(format!("batch {n}"));
            for (k, v) in changes {
                batch = match v {
                    Some(v) => { model.insert(k.clone(), v.clone()); batch.set(k, v.clone()) }
                    None => { model.remove(k); batch.remove(k) }
                };
            }
            store.commit(batch).unwrap();
            check(&store, &model)?;
        }
        store.wait_for_merges();
        drop(store);
        let store = Store::open(&repo).unwrap();
        check(&store, &model)?;
        if let Some(git_bin) = git_binary() {
            fsck(&git_bin, &repo);
            let mut keys = git_keys(&git_bin, &repo, "main");
            keys.sort();
            prop_assert_eq!(keys, model.keys().cloned().collect::<Vec<_>>());
            for (k, v) in &model {
                let shown = git(&git_bin, &repo, &["cat-file", "blob", &format!("main:{k}")]);
                // git's stdout went through from_utf8_lossy: compare the same way.
                prop_assert_eq!(shown, String::from_utf8_lossy(v).into_owned());
            }
        }
    }
}
