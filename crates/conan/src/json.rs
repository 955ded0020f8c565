//! The JSON check of libmagic (`is_json.c`): a strict, non-allocating
//! recogniser of JSON and newline-delimited JSON, depth-limited.

const ARRAY: usize = 0;
const CONSTANT: usize = 1;
const NUMBER: usize = 2;
const OBJECT: usize = 3;
const STRING: usize = 4;
const ARRAYN: usize = 5;

/// Nesting depth after which a buffer is not JSON (libmagic's limit).
const MAX_DEPTH: usize = 500;

/// The kind of JSON found.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Json {
    Json,
    NdJson,
}

impl Json {
    pub(crate) fn description(self) -> &'static str {
        match self {
            Json::Json => "JSON text data",
            Json::NdJson => "New Line Delimited JSON text data",
        }
    }

    pub(crate) fn mime(self) -> &'static str {
        match self {
            Json::Json => "application/json",
            Json::NdJson => "application/x-ndjson",
        }
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t')
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_space(b[i]) {
        i += 1;
    }
    i
}

fn parse_string(b: &[u8], uc: &mut usize) -> bool {
    let mut i = *uc;
    let ue = b.len();
    while i < ue {
        let c = b[i];
        i += 1;
        match c {
            0 => break,
            b'\\' => {
                if i == ue {
                    break;
                }
                let e = b[i];
                i += 1;
                match e {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => continue,
                    b'u' => {
                        if ue - i < 4 {
                            i = ue;
                            break;
                        }
                        let mut ok = true;
                        for _ in 0..4 {
                            let h = b[i];
                            i += 1;
                            if !h.is_ascii_hexdigit() {
                                ok = false;
                                break;
                            }
                        }
                        if !ok {
                            break;
                        }
                        continue;
                    }
                    _ => break,
                }
            }
            b'"' => {
                *uc = i;
                return true;
            }
            _ => {}
        }
    }
    *uc = i;
    false
}

fn parse_array(b: &[u8], uc: &mut usize, st: &mut [usize; 6], lvl: usize) -> bool {
    let mut i = *uc;
    let ue = b.len();
    while i < ue {
        i = skip_space(b, i);
        if i == ue {
            break;
        }
        if b[i] == b']' {
            st[ARRAYN] += 1;
            *uc = i + 1;
            return true;
        }
        if !parse(b, &mut i, st, lvl + 1) {
            break;
        }
        if i == ue {
            break;
        }
        match b[i] {
            b',' => i += 1,
            b']' => {
                st[ARRAYN] += 1;
                *uc = i + 1;
                return true;
            }
            _ => break,
        }
    }
    *uc = i;
    false
}

fn parse_object(b: &[u8], uc: &mut usize, st: &mut [usize; 6], lvl: usize) -> bool {
    let mut i = *uc;
    let ue = b.len();
    while i < ue {
        i = skip_space(b, i);
        if i == ue {
            break;
        }
        if b[i] == b'}' {
            *uc = i + 1;
            return true;
        }
        let c = b[i];
        i += 1;
        if c != b'"' || !parse_string(b, &mut i) {
            break;
        }
        i = skip_space(b, i);
        if i == ue {
            break;
        }
        let c = b[i];
        i += 1;
        if c != b':' || !parse(b, &mut i, st, lvl + 1) {
            break;
        }
        if i == ue {
            break;
        }
        let c = b[i];
        i += 1;
        match c {
            b',' => continue,
            b'}' => {
                *uc = i;
                return true;
            }
            _ => {
                i -= 1;
                break;
            }
        }
    }
    *uc = i;
    false
}

fn parse_number(b: &[u8], uc: &mut usize) -> bool {
    let mut i = *uc;
    let ue = b.len();
    let mut got = false;
    if i == ue {
        return false;
    }
    if b[i] == b'-' {
        i += 1;
    }
    'out: {
        while i < ue && b[i].is_ascii_digit() {
            got = true;
            i += 1;
        }
        if i == ue {
            break 'out;
        }
        if b[i] == b'.' {
            i += 1;
        }
        while i < ue && b[i].is_ascii_digit() {
            got = true;
            i += 1;
        }
        if i == ue {
            break 'out;
        }
        if got && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            got = false;
            if i == ue {
                break 'out;
            }
            if b[i] == b'+' || b[i] == b'-' {
                i += 1;
            }
            while i < ue && b[i].is_ascii_digit() {
                got = true;
                i += 1;
            }
        }
    }
    if got {
        *uc = i;
    }
    got
}

fn parse_const(b: &[u8], uc: &mut usize, word: &[u8]) -> bool {
    // `uc` is just past the first letter.
    let start = *uc;
    *uc = (start + word.len() - 1).min(b.len());
    for (k, &w) in word[1..].iter().enumerate() {
        match b.get(start + k) {
            None => return true,
            Some(&c) if c != w => return false,
            Some(_) => {}
        }
    }
    true
}

/// `json_parse`: 0 not JSON, 1 JSON, 2 newline-delimited JSON (top level).
fn parse(b: &[u8], ucp: &mut usize, st: &mut [usize; 6], lvl: usize) -> bool {
    parse_level(b, ucp, st, lvl) != 0
}

fn parse_level(b: &[u8], ucp: &mut usize, st: &mut [usize; 6], lvl: usize) -> u8 {
    let ue = b.len();
    let ouc = skip_space(b, *ucp);
    let mut uc = ouc;
    let mut rv = false;
    if uc != ue {
        if lvl > MAX_DEPTH {
            return 0;
        }
        let c = b[uc];
        uc += 1;
        let t = match c {
            b'"' => {
                rv = parse_string(b, &mut uc);
                STRING
            }
            b'[' => {
                rv = parse_array(b, &mut uc, st, lvl + 1);
                ARRAY
            }
            b'{' => {
                rv = parse_object(b, &mut uc, st, lvl + 1);
                OBJECT
            }
            b't' => {
                rv = parse_const(b, &mut uc, b"true");
                CONSTANT
            }
            b'f' => {
                rv = parse_const(b, &mut uc, b"false");
                CONSTANT
            }
            b'n' => {
                rv = parse_const(b, &mut uc, b"null");
                CONSTANT
            }
            _ => {
                uc -= 1;
                rv = parse_number(b, &mut uc);
                NUMBER
            }
        };
        if rv {
            st[t] += 1;
        }
        uc = skip_space(b, uc);
    }
    *ucp = uc;
    if lvl == 0 {
        if !rv {
            return 0;
        }
        let structured = st[ARRAYN] != 0 || st[OBJECT] != 0;
        if uc == ue {
            return u8::from(structured);
        }
        if b.get(ouc) == b.get(uc) && parse(b, &mut uc, st, 1) {
            return if structured { 2 } else { 0 };
        }
        return 0;
    }
    u8::from(rv)
}

/// `file_is_json`.
pub(crate) fn detect(b: &[u8]) -> Option<Json> {
    let mut st = [0usize; 6];
    let mut uc = 0;
    match parse_level(b, &mut uc, &mut st, 0) {
        1 => Some(Json::Json),
        2 => Some(Json::NdJson),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_kinds() {
        assert_eq!(
            detect(b"{\"a\": [1, 2.5e3, true, null, \"x\\u00e9\"]}\n"),
            Some(Json::Json)
        );
        assert_eq!(detect(b"{\"a\":1}\n{\"a\":2}\n"), Some(Json::NdJson));
        assert_eq!(detect(b"42"), None);
        assert_eq!(detect(b"{\"a\":}"), None);
        assert_eq!(detect(&[b'['; 2000]), None);
    }
}
