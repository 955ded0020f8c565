#![no_main]
// The pkt-line reader: incremental decoding must agree with whole-buffer decoding.
use smart::proto::pktline::{Decoded, decode, decode_all};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let whole = decode_all(data);
    let mut rest = data;
    let mut count = 0;
    while let Ok(Decoded::Complete { consumed, .. }) = decode(rest) {
        assert!(consumed >= 4 && consumed <= rest.len());
        rest = &rest[consumed..];
        count += 1;
        if rest.is_empty() {
            break;
        }
    }
    if let Ok(packets) = whole {
        assert_eq!(packets.len(), count);
    }
});
