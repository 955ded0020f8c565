#![no_main]
// The response parsers, fed the pkt-lines of fuzzed bytes: the first byte
// picks the parser (greeting, ls-refs, fetch response, side-band report-status).
use smart::proto::pktline::{Decoded, decode};
use smart::proto::push::SidebandReport;
use smart::proto::{FetchResponseParser, GreetingParser, LsRefsParser};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&which, mut rest)) = data.split_first() else { return };
    let mut greeting = GreetingParser::new();
    let mut ls_refs = LsRefsParser::new();
    let mut fetch = FetchResponseParser::new();
    let mut report = SidebandReport::new();
    while let Ok(Decoded::Complete { packet, consumed }) = decode(rest) {
        rest = &rest[consumed..];
        let failed = match which % 4 {
            0 => greeting.push(packet).is_err(),
            1 => ls_refs.push(packet).is_err(),
            2 => fetch.push(packet).is_err(),
            _ => report.push(packet).is_err(),
        };
        if failed {
            break;
        }
    }
});
