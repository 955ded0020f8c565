//! The printf subset of magic descriptions (`%d`, `%x`, `%s`, `%g`, widths
//! and flags), libmagic's `file_printable` escaping and its date formats.

/// The one argument a description is formatted with.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Arg<'a> {
    /// An integer and the bit width of the C type it was passed as.
    Int {
        value: u64,
        bits: u32,
        signed: bool,
    },
    Float(f64),
    Str(&'a [u8]),
}

/// A parsed `%` conversion.
#[derive(Default, Debug)]
struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    alt: bool,
    zero: bool,
    width: usize,
    precision: Option<usize>,
    conv: u8,
}

/// Formats `fmt` (a description) with `arg`, like `file_printf`.
pub(crate) fn format(out: &mut Vec<u8>, fmt: &[u8], arg: Arg<'_>) {
    let mut i = 0;
    let mut used = false;
    while i < fmt.len() {
        let c = fmt[i];
        if c != b'%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        if fmt.get(i) == Some(&b'%') {
            out.push(b'%');
            i += 1;
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = fmt.get(i) {
            match f {
                b'-' => spec.left = true,
                b'+' => spec.plus = true,
                b' ' => spec.space = true,
                b'#' => spec.alt = true,
                b'0' => spec.zero = true,
                _ => break,
            }
            i += 1;
        }
        while let Some(d @ b'0'..=b'9') = fmt.get(i) {
            spec.width = (spec.width * 10 + usize::from(d - b'0')).min(1024);
            i += 1;
        }
        if fmt.get(i) == Some(&b'.') {
            i += 1;
            let mut p = 0usize;
            while let Some(d @ b'0'..=b'9') = fmt.get(i) {
                p = (p * 10 + usize::from(d - b'0')).min(1024);
                i += 1;
            }
            spec.precision = Some(p);
        }
        while let Some(b'h' | b'l' | b'q' | b'j' | b'z' | b't' | b'L') = fmt.get(i) {
            i += 1;
        }
        let Some(&conv) = fmt.get(i) else {
            break;
        };
        i += 1;
        spec.conv = conv;
        if used {
            // A second conversion has no argument: libmagic's fmtcheck
            // rejects such descriptions, print nothing for it.
            continue;
        }
        used = true;
        convert(out, &spec, arg);
    }
}

fn pad(out: &mut Vec<u8>, spec: &Spec, body: &[u8], numeric: bool) {
    let len = body.len();
    if len >= spec.width {
        out.extend_from_slice(body);
        return;
    }
    let fill = spec.width - len;
    if spec.left {
        out.extend_from_slice(body);
        out.extend(std::iter::repeat_n(b' ', fill));
    } else if spec.zero && numeric && spec.precision.is_none() {
        // zeros go after the sign or 0x prefix
        let sign_len = match body.first() {
            Some(b'-' | b'+' | b' ') => 1,
            _ => 0,
        };
        let prefix = if body.len() > sign_len + 1
            && body[sign_len] == b'0'
            && matches!(body[sign_len + 1], b'x' | b'X')
        {
            sign_len + 2
        } else {
            sign_len
        };
        out.extend_from_slice(&body[..prefix]);
        out.extend(std::iter::repeat_n(b'0', fill));
        out.extend_from_slice(&body[prefix..]);
    } else {
        out.extend(std::iter::repeat_n(b' ', fill));
        out.extend_from_slice(body);
    }
}

fn convert(out: &mut Vec<u8>, spec: &Spec, arg: Arg<'_>) {
    match spec.conv {
        b'd' | b'i' | b'u' | b'x' | b'X' | b'o' | b'c' => {
            let (value, bits, signed) = match arg {
                Arg::Int { value, bits, signed } => (value, bits, signed),
                Arg::Float(f) => (f as i64 as u64, 64, true),
                Arg::Str(_) => (0, 64, false),
            };
            let mask = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
            let uval = value & mask;
            let sval: i64 = if bits >= 64 {
                value as i64
            } else {
                let shift = 64 - bits;
                ((uval << shift) as i64) >> shift
            };
            let _ = signed;
            let mut digits = match spec.conv {
                b'd' | b'i' => sval.unsigned_abs().to_string().into_bytes(),
                b'u' => uval.to_string().into_bytes(),
                b'x' => format!("{uval:x}").into_bytes(),
                b'X' => format!("{uval:X}").into_bytes(),
                b'o' => format!("{uval:o}").into_bytes(),
                _ => {
                    pad(out, spec, &[uval as u8], false);
                    return;
                }
            };
            if let Some(p) = spec.precision {
                if p == 0 && uval == 0 {
                    digits.clear();
                }
                while digits.len() < p {
                    digits.insert(0, b'0');
                }
            }
            let mut body = Vec::new();
            if matches!(spec.conv, b'd' | b'i') {
                if sval < 0 {
                    body.push(b'-');
                } else if spec.plus {
                    body.push(b'+');
                } else if spec.space {
                    body.push(b' ');
                }
            }
            if spec.alt && uval != 0 {
                match spec.conv {
                    b'x' => body.extend_from_slice(b"0x"),
                    b'X' => body.extend_from_slice(b"0X"),
                    b'o' if digits.first() != Some(&b'0') => body.push(b'0'),
                    _ => {}
                }
            }
            body.extend_from_slice(&digits);
            pad(out, spec, &body, true);
        }
        b's' => {
            let s: Vec<u8> = match arg {
                Arg::Str(s) => s.to_vec(),
                Arg::Int { value, bits, .. } => {
                    let v = if bits >= 64 {
                        value
                    } else {
                        value & ((1 << bits) - 1)
                    };
                    v.to_string().into_bytes()
                }
                Arg::Float(f) => format_g(f, 6, false).into_bytes(),
            };
            let s = match spec.precision {
                Some(p) if p < s.len() => &s[..p],
                _ => &s[..],
            };
            pad(out, spec, s, false);
        }
        b'e' | b'E' | b'f' | b'F' | b'g' | b'G' => {
            let f = match arg {
                Arg::Float(f) => f,
                Arg::Int { value, .. } => value as i64 as f64,
                Arg::Str(_) => 0.0,
            };
            let p = spec.precision.unwrap_or(6);
            let mut body = match spec.conv {
                b'e' | b'E' => format_e(f, p),
                b'f' | b'F' => format!("{f:.p$}"),
                _ => format_g(f, p, spec.alt),
            };
            if spec.conv.is_ascii_uppercase() {
                body = body.to_ascii_uppercase();
            }
            if !body.starts_with('-') {
                if spec.plus {
                    body.insert(0, '+');
                } else if spec.space {
                    body.insert(0, ' ');
                }
            }
            pad(out, spec, body.as_bytes(), true);
        }
        _ => {}
    }
}

/// C's `%.*e`.
fn format_e(f: f64, p: usize) -> String {
    if !f.is_finite() {
        return non_finite(f);
    }
    let s = format!("{f:.p$e}");
    // Rust gives "1.5e3" / "1.5e-3"; C wants "1.5e+03".
    match s.split_once('e') {
        Some((mant, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mant}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

fn non_finite(f: f64) -> String {
    if f.is_nan() {
        "nan".to_owned()
    } else if f < 0.0 {
        "-inf".to_owned()
    } else {
        "inf".to_owned()
    }
}

/// C's `%.*g`.
pub(crate) fn format_g(f: f64, p: usize, alt: bool) -> String {
    if !f.is_finite() {
        return non_finite(f);
    }
    let p = p.max(1);
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let e = format!("{:.*e}", p - 1, f);
    let exp: i64 = e.split_once('e').and_then(|(_, x)| x.parse().ok()).unwrap_or(0);
    let mut s = if exp < -4 || exp >= p as i64 {
        format_e(f, p - 1)
    } else {
        let prec = (p as i64 - 1 - exp).max(0) as usize;
        format!("{f:.prec$}")
    };
    if !alt {
        // strip trailing zeros of the fraction
        let (mant, exp_part) = match s.find('e') {
            Some(k) => (s[..k].to_owned(), s[k..].to_owned()),
            None => (s.clone(), String::new()),
        };
        let mant = if mant.contains('.') {
            mant.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            mant
        };
        s = mant + &exp_part;
    }
    s
}

/// libmagic's `file_printable`: printable ASCII as is, other bytes as
/// `\ooo`, stopping at NUL, after `slen` bytes, or at 511 output bytes.
pub(crate) fn printable(s: &[u8]) -> Vec<u8> {
    const BUFSIZ: usize = 512;
    let mut out = Vec::with_capacity(s.len().min(BUFSIZ));
    let eptr = BUFSIZ - 1;
    for &c in s {
        if out.len() >= eptr || c == 0 {
            break;
        }
        if (0x20..0x7f).contains(&c) {
            out.push(c);
            continue;
        }
        if out.len() + 3 >= eptr {
            break;
        }
        push_octal(&mut out, c);
    }
    out
}

pub(crate) fn push_octal(out: &mut Vec<u8>, c: u8) {
    out.push(b'\\');
    out.push(b'0' + ((c >> 6) & 7));
    out.push(b'0' + ((c >> 3) & 7));
    out.push(b'0' + (c & 7));
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 to (year, month 1-12, day 1-31).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `file_fmtdatetime`: asctime of a Unix time (UTC; local dates are also
/// printed in UTC, which is what `file` prints under `TZ=UTC`).
pub(crate) fn datetime(t: i64) -> String {
    // glibc's gmtime fails when the year does not fit an int.
    if !(-67_768_040_609_740_800..=67_767_976_233_316_799).contains(&t) {
        return "*Invalid datetime*".to_owned();
    }
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let wday = (days + 4).rem_euclid(7) as usize;
    format!(
        "{} {}{:3} {:02}:{:02}:{:02} {}",
        DAYS[wday],
        MONTHS[(m - 1) as usize],
        d,
        secs / 3600,
        (secs / 60) % 60,
        secs % 60,
        y
    )
}

/// Windows FILETIME (100 ns since 1601) to Unix seconds.
pub(crate) fn windows_to_unix(v: u64) -> i64 {
    (v / 10_000_000) as i64 - 11_644_473_600
}

/// `file_fmtdate`: an MS-DOS date as `strftime("%a, %b %d %Y")`.
pub(crate) fn msdos_date(v: u16) -> String {
    let mday = u32::from(v & 0x1f);
    let mon = i64::from((v >> 5) & 0xf) - 1;
    let year = i64::from(v >> 9) + 1980;
    // strftime with a zeroed tm: tm_wday is 0 (Sunday) whatever the date.
    let mon_name = usize::try_from(mon)
        .ok()
        .and_then(|m| MONTHS.get(m))
        .copied()
        .unwrap_or("?");
    format!("Sun, {mon_name} {mday:02} {year}")
}

/// `file_fmttime`: an MS-DOS time as `%T`.
pub(crate) fn msdos_time(v: u16) -> String {
    format!("{:02}:{:02}:{:02}", v >> 11, (v >> 5) & 0x3f, (v & 0x1f) * 2)
}

/// `file_print_guid`.
pub(crate) fn guid(g: &[u8; 16]) -> String {
    let d1 = u32::from_le_bytes([g[0], g[1], g[2], g[3]]);
    let d2 = u16::from_le_bytes([g[4], g[5]]);
    let d3 = u16::from_le_bytes([g[6], g[7]]);
    format!(
        "{d1:08X}-{d2:04X}-{d3:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
        g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(fmt: &str, arg: Arg<'_>) -> String {
        let mut out = Vec::new();
        format(&mut out, fmt.as_bytes(), arg);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn printf_subset() {
        let int = |v: i64| Arg::Int {
            value: v as u64,
            bits: 32,
            signed: true,
        };
        assert_eq!(f("version %d", int(3)), "version 3");
        assert_eq!(f("%d", int(-1)), "-1");
        assert_eq!(f("%x", int(-1)), "ffffffff");
        assert_eq!(f("%#06x", int(0x1f)), "0x001f");
        assert_eq!(f("%-4s|", Arg::Str(b"ab")), "ab  |");
        assert_eq!(f("%.2s", Arg::Str(b"abc")), "ab");
        assert_eq!(f("%d%%", int(50)), "50%");
        assert_eq!(f("%g", Arg::Float(0.5)), "0.5");
        assert_eq!(f("%g", Arg::Float(1e10)), "1e+10");
        assert_eq!(f("%g", Arg::Float(44100.0)), "44100");
    }

    #[test]
    fn dates() {
        assert_eq!(datetime(0), "Thu Jan  1 00:00:00 1970");
        assert_eq!(datetime(1_700_000_000), "Tue Nov 14 22:13:20 2023");
        assert_eq!(msdos_time(0x6000 | (5 << 5) | 3), "12:05:06");
    }

    #[test]
    fn escapes() {
        assert_eq!(printable(b"a\x01b\0c"), b"a\\001b");
    }
}
