#![no_main]
// The response parsers, fed the pkt-lines of fuzzed bytes: the first byte
// picks the parser (greeting, ls-refs, v2 and v0 fetch responses, side-band report-status).
use smart::proto::pktline::{Decoded, decode};
use smart::proto::fetch_v0::V0ResponseParser;
use smart::proto::push::SidebandReport;
use smart::proto::{FetchResponseParser, GreetingParser, LsRefsParser};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&which, mut rest)) = data.split_first() else { return };
    let mut greeting = GreetingParser::new();
    let mut ls_refs = LsRefsParser::new();
    let mut fetch = FetchResponseParser::new();
    let mut report = SidebandReport::new();
    let mut v0 = V0ResponseParser::new(which & 0x80 != 0);
    while let Ok(Decoded::Complete { packet, consumed }) = decode(rest) {
        rest = &rest[consumed..];
        let failed = match which % 5 {
            0 => greeting.push(packet).is_err(),
            1 => ls_refs.push(packet).is_err(),
            2 => fetch.push(packet).is_err(),
            3 => v0.push(packet).is_err(),
            _ => report.push(packet).is_err(),
        };
        if failed {
            break;
        }
    }
});
