//! The `der` type (libmagic's `der.c`): ASN.1 DER tag/length walking for
//! certificates and keys, e.g. `der seq`, `der int1=00`, `der prt_str=x`.

const BAD: u32 = u32::MAX;

const TAGS: [&str; 37] = [
    "eoc",
    "bool",
    "int",
    "bit_str",
    "octet_str",
    "null",
    "obj_id",
    "obj_desc",
    "ext",
    "real",
    "enum",
    "embed",
    "utf8_str",
    "rel_oid",
    "time",
    "res2",
    "seq",
    "set",
    "num_str",
    "prt_str",
    "t61_str",
    "vid_str",
    "ia5_str",
    "utc_time",
    "gen_time",
    "gr_str",
    "vis_str",
    "gen_str",
    "univ_str",
    "char_str",
    "bmp_str",
    "date",
    "tod",
    "datetime",
    "duration",
    "oid-iri",
    "rel-oid-iri",
];

fn get_tag(c: &[u8], p: &mut usize, l: usize) -> u32 {
    if *p >= l {
        return BAD;
    }
    let mut tag = u32::from(c[*p] & 0x1f);
    *p += 1;
    if tag != 0x1f {
        return tag;
    }
    if *p >= l {
        return BAD;
    }
    while c[*p] >= 0x80 {
        tag = tag.wrapping_mul(128).wrapping_add(u32::from(c[*p] - 0x80));
        *p += 1;
        if *p >= l {
            return BAD;
        }
    }
    tag
}

fn get_length(c: &[u8], p: &mut usize, l: usize) -> u32 {
    if *p >= l {
        return BAD;
    }
    let one_byte = c[*p] & 0x80 == 0;
    let digits = usize::from(c[*p] & 0x7f);
    *p += 1;
    if *p + digits >= l {
        return BAD;
    }
    if one_byte {
        return digits as u32;
    }
    let mut len: u64 = 0;
    for _ in 0..digits {
        len = (len << 8) | u64::from(c[*p]);
        *p += 1;
        if len > u64::from(u32::MAX) {
            return BAD;
        }
    }
    if len > u64::from(u32::MAX) - *p as u64 || *p as u64 + len > l as u64 {
        return BAD;
    }
    len as u32
}

fn tag_name(tag: u32) -> String {
    match TAGS.get(tag as usize) {
        Some(n) if tag < 0x25 => (*n).to_owned(),
        _ => format!("{tag:#x}"),
    }
}

fn data(tag: u32, d: &[u8]) -> Vec<u8> {
    match tag {
        0x13 | 0x0c | 0x16 => {
            let end = memchr::memchr(0, d).unwrap_or(d.len());
            return d[..end.min(127)].to_vec();
        }
        0x17 if d.len() >= 12 => {
            let c = |i: usize| char::from(d[i]);
            return format!(
                "20{}{}-{}{}-{}{} {}{}:{}{}:{}{} GMT",
                c(0),
                c(1),
                c(2),
                c(3),
                c(4),
                c(5),
                c(6),
                c(7),
                c(8),
                c(9),
                c(10),
                c(11)
            )
            .into_bytes();
        }
        _ => {}
    }
    let mut out = Vec::new();
    for (i, b) in d.iter().enumerate() {
        if 2 * i < 126 {
            out.extend_from_slice(format!("{b:02x}").as_bytes());
        }
    }
    out
}

/// `der_offs`: the offset of the element's content, and the end of the
/// element for the parent level; `None` when it is not DER.
pub(crate) fn offs(region: &[u8], nbytes: usize, cur: i32, m_offset: i32) -> Option<(i32, usize)> {
    let len = if region.is_empty() {
        nbytes.min(region.len())
    } else {
        region.len()
    };
    let mut p = 0;
    if get_tag(region, &mut p, len) == BAD {
        return None;
    }
    let tlen = get_length(region, &mut p, len);
    if tlen == BAD {
        return None;
    }
    let o = (p as i64) + i64::from(cur) + i64::from(m_offset);
    let o = usize::try_from(o).ok()?;
    Some((i32::try_from(o).ok()?, o + tlen as usize))
}

/// `der_cmp`: whether the element at the start of `region` matches the
/// magic value; on a match, the text for `%s`.
pub(crate) fn cmp(region: &[u8], want: &[u8]) -> Option<Vec<u8>> {
    let len = region.len();
    let mut p = 0;
    let tag = get_tag(region, &mut p, len);
    if tag == BAD {
        return None;
    }
    let tlen = get_length(region, &mut p, len);
    if tlen == BAD {
        return None;
    }
    let name = tag_name(tag);
    let want = match memchr::memchr(0, want) {
        Some(n) => &want[..n],
        None => want,
    };
    let mut s = want.strip_prefix(name.as_bytes())?;
    loop {
        match s.first() {
            None => return Some(Vec::new()),
            Some(b'=') => {
                s = &s[1..];
                break;
            }
            Some(c) if c.is_ascii_digit() => {
                let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
                let n: u64 = std::str::from_utf8(&s[..digits]).ok()?.parse().ok()?;
                if u64::from(tlen) != n {
                    return None;
                }
                s = &s[digits..];
            }
            Some(_) => return None,
        }
    }
    let content = region.get(p..(p + tlen as usize).min(len)).unwrap_or(&[]);
    let got = data(tag, content);
    if got != s && s != b"x" {
        return None;
    }
    Some(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_lengths_values() {
        // SEQUENCE { INTEGER 0, PrintableString "FR" } and one more byte:
        // like libmagic, an element may not end exactly at the buffer end.
        let b = b"\x30\x07\x02\x01\x00\x13\x02FR\0";
        assert_eq!(cmp(b, b"seq"), Some(Vec::new()));
        assert_eq!(cmp(b, b"seq7"), Some(Vec::new()));
        assert_eq!(cmp(b, b"set"), None);
        assert_eq!(offs(b, b.len(), 0, 0), Some((2, 9)));
        assert_eq!(cmp(&b[..9], b"seq"), None);
        assert_eq!(cmp(&b[2..], b"int1=00"), Some(b"00".to_vec()));
        assert_eq!(cmp(&b[5..], b"prt_str=x"), Some(b"FR".to_vec()));
        assert_eq!(cmp(b"\x30\x80", b"seq"), None);
    }
}
