#![no_main]
// Git's delta format as a received pack carries it: the first byte splits
// the input into a base and a delta; applying never panics, and a delta
// that applies produces exactly the size its header announces.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let (base, delta) = rest.split_at(usize::from(split).min(rest.len()));
    let mut out = Vec::new();
    if smart::delta::apply(base, delta, &mut out).is_ok() {
        let (_, size, _) = smart::delta::sizes(delta).expect("an applied delta has sizes");
        assert_eq!(out.len() as u64, size);
    }
});
