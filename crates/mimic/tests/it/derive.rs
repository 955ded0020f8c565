//! Derivations: lazy, at most once per resolve, req/opt/dft, refusals, cycles.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mimic::{Context, Derive, Error, Key, Resolver, Stage, transport_fn};

use crate::support::pipe_flow;

const SEED: Key<u32> = Key::new("test.seed");
const SHARED: Key<u32> = Key::new("test.shared");
const UNUSED: Key<u32> = Key::new("test.unused");
const OPT: Key<u32> = Key::new("test.opt");
const DFT: Key<u32> = Key::new("test.dft");
const OUT: Key<(Option<u32>, u32)> = Key::new("test.out");

fn counting(key: Key<u32>, from: Key<u32>, count: Arc<AtomicUsize>) -> mimic::Derivation {
    Derive::new(key).req(from).compute(move |i| {
        count.fetch_add(1, Ordering::SeqCst);
        Ok(Some(*i.req(&from)? + 1))
    })
}

#[tokio::test]
async fn computed_once_and_only_when_needed() {
    let shared = Arc::new(AtomicUsize::new(0));
    let unused = Arc::new(AtomicUsize::new(0));
    let resolver = Resolver::bare()
        .derive(counting(SHARED, SEED, shared.clone()))
        .derive(counting(UNUSED, SEED, unused.clone()))
        // Two transports need SHARED: the first fails, the second connects.
        .transport(
            1,
            transport_fn("fails", SHARED, |_| async { Err("refused".into()) }),
        )
        .transport(
            2,
            transport_fn("works", SHARED, |n: u32| async move {
                assert_eq!(n, 42);
                Ok(pipe_flow("works"))
            }),
        )
        // Needs UNUSED, but comes after a transport that connects.
        .transport(
            3,
            transport_fn("later", UNUSED, |_| async { Ok(pipe_flow("later")) }),
        )
        .build();
    let ctx = Context::new().with(&SEED, 41);
    let flow = resolver.resolve(&ctx).await.unwrap();
    assert_eq!(flow.facts().protocol(), Some("works"));
    assert_eq!(
        shared.load(Ordering::SeqCst),
        1,
        "derived once for two transports"
    );
    assert_eq!(unused.load(Ordering::SeqCst), 0, "never needed, never derived");

    // Once per resolve: a second resolve derives again.
    resolver.resolve(&ctx).await.unwrap();
    assert_eq!(shared.load(Ordering::SeqCst), 2);

    // A value in the context wins over its derivation.
    resolver.resolve(&ctx.clone().with(&SHARED, 42)).await.unwrap();
    assert_eq!(shared.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn required_optional_and_default_inputs() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let resolver = Resolver::bare()
        .derive(
            Derive::new(OUT)
                .req(SEED)
                .opt(OPT)
                .dft(DFT, 7)
                .compute(|i| Ok(Some((i.get(&OPT).copied(), *i.req(&DFT)?)))),
        )
        // OPT is itself derivable from SHARED.
        .derive(
            Derive::new(OPT)
                .req(SHARED)
                .compute(|i| Ok(Some(*i.req(&SHARED)? * 10))),
        )
        .transport(
            1,
            transport_fn("t", OUT, move |out| {
                log.lock().unwrap().push(out);
                async { Ok(pipe_flow("t")) }
            }),
        )
        .build();
    resolver.resolve(&Context::new().with(&SEED, 0)).await.unwrap();
    resolver
        .resolve(&Context::new().with(&SEED, 0).with(&DFT, 1))
        .await
        .unwrap();
    resolver
        .resolve(&Context::new().with(&SEED, 0).with(&OPT, 5))
        .await
        .unwrap();
    resolver
        .resolve(&Context::new().with(&SEED, 0).with(&SHARED, 3))
        .await
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        vec![(None, 7), (None, 1), (Some(5), 7), (Some(30), 7)]
    );

    // Without the required input, nothing runs and the error names what is missing.
    let err = resolver.resolve(&Context::new().with(&DFT, 1)).await.unwrap_err();
    let Error::NoProtocol { missing } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(missing.len(), 1);
    assert_eq!(
        (missing[0].key, missing[0].inputs.clone()),
        ("test.out", vec!["test.seed"])
    );
    assert_eq!(
        err.to_string(),
        "no protocol had its inputs: t needs `test.out` (or to derive it: `test.seed`)"
    );
}

#[tokio::test]
async fn a_derivation_that_declines_leaves_the_key_to_the_next() {
    let resolver = Resolver::bare()
        .derive(
            Derive::new(SHARED)
                .req(SEED)
                .compute(|i| Ok((*i.req(&SEED)? > 10).then_some(1))),
        )
        .derive(Derive::new(SHARED).req(SEED).compute(|_| Ok(Some(2))))
        .transport(
            1,
            transport_fn("t", SHARED, |n: u32| async move {
                Ok(pipe_flow(if n == 1 { "first" } else { "second" }))
            }),
        )
        .build();
    let flow = resolver.resolve(&Context::new().with(&SEED, 11)).await.unwrap();
    assert_eq!(flow.facts().protocol(), Some("first"));
    let flow = resolver.resolve(&Context::new().with(&SEED, 1)).await.unwrap();
    assert_eq!(flow.facts().protocol(), Some("second"));
}

#[tokio::test]
async fn a_cycle_of_derivations_is_missing_not_a_hang() {
    let resolver = Resolver::bare()
        .derive(
            Derive::new(SHARED)
                .req(UNUSED)
                .compute(|i| Ok(Some(*i.req(&UNUSED)?))),
        )
        .derive(
            Derive::new(UNUSED)
                .req(SHARED)
                .compute(|i| Ok(Some(*i.req(&SHARED)?))),
        )
        .transport(1, transport_fn("t", SHARED, |_| async { Ok(pipe_flow("t")) }))
        .build();
    let err = resolver.resolve(&Context::new()).await.unwrap_err();
    assert!(matches!(err, Error::NoProtocol { .. }), "{err}");
    // Given one end of the cycle, the other derives.
    resolver.resolve(&Context::new().with(&UNUSED, 1)).await.unwrap();
}

#[tokio::test]
async fn a_failed_derivation_is_reported_for_each_protocol_and_run_once() {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let resolver = Resolver::bare()
        .derive(Derive::new(SHARED).req(SEED).compute_async(move |_| {
            c.fetch_add(1, Ordering::SeqCst);
            async { Err("lookup failed".into()) }
        }))
        .transport(1, transport_fn("a", SHARED, |_| async { Ok(pipe_flow("a")) }))
        .transport(2, transport_fn("b", SHARED, |_| async { Ok(pipe_flow("b")) }))
        .build();
    let err = resolver
        .resolve(&Context::new().with(&SEED, 1))
        .await
        .unwrap_err();
    assert_eq!(count.load(Ordering::SeqCst), 1);
    let attempts = err.attempts();
    assert_eq!(attempts.len(), 2);
    for (attempt, name) in attempts.iter().zip(["a", "b"]) {
        assert_eq!(attempt.protocol, name);
        assert_eq!(attempt.stage, Stage::Derive { key: "test.shared" });
    }
    assert_eq!(
        err.to_string(),
        "could not connect: 2 attempts failed: a (deriving `test.shared`): lookup failed; \
         b (deriving `test.shared`): lookup failed"
    );
    assert!(!err.is_transient());
}

#[tokio::test]
async fn undeclared_inputs_are_an_error_not_a_panic() {
    let resolver = Resolver::bare()
        .derive(Derive::new(SHARED).compute(|i| Ok(Some(*i.req(&SEED)?))))
        .transport(1, transport_fn("t", SHARED, |_| async { Ok(pipe_flow("t")) }))
        .build();
    let err = resolver
        .resolve(&Context::new().with(&SEED, 1))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("derivation input `test.seed` was not declared"),
        "{err}"
    );
}
