//! CDF/OLE2 compound documents (libmagic's `cdf.c` and `readcdf.c`): old
//! Microsoft Office files, MSI installers, Outlook messages. The sector
//! tables and the directory are walked to read the summary-information
//! property set, which names the creating application (the MIME type) and
//! gives the title, author, dates... (the description).
//!
//! Every chain walk is bounded (libmagic's `CDF_LOOP_LIMIT`) and every
//! read is checked, so a hostile file costs at most a few table reads.

use crate::elf::Source;

const MAGIC: u64 = 0xE11A_B1A1_E011_CFD0;
const LOOP_LIMIT: usize = 10_000;
/// Largest stream or table built (a chain may loop over the same 1 MiB
/// sector up to `LOOP_LIMIT` times; libmagic's calloc would fail there).
const STREAM_MAX: usize = 64 * 1024 * 1024;
const ELEMENT_LIMIT: u32 = 100_000;
const END_OF_CHAIN: i32 = -2;
const DIR_SIZE: usize = 128;
const USER_STORAGE: u8 = 1;
const USER_STREAM: u8 = 2;
const ROOT_STORAGE: u8 = 5;
const PROP_APPNAME: u32 = 0x12;
const MSI_CLSID: [u64; 2] = [0x0000_0000_000c_1084, 0x4600_0000_0000_00c0];

/// What `file_trycdf` prints, per output mode; `None`: not a match in
/// that mode (identification goes on).
#[derive(Debug, Default)]
pub(crate) struct Cdf {
    pub(crate) desc: Option<Vec<u8>>,
    pub(crate) mime: Option<Vec<u8>>,
}

struct Header {
    ss: usize,
    sss: usize,
    first_dir: i32,
    min_std: u32,
    first_ssat: i32,
    first_msat: i32,
    num_msat: u32,
    msat: Vec<i32>,
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

#[derive(Clone)]
struct DirEntry {
    name: [u16; 32],
    typ: u8,
    clsid: [u64; 2],
    first: i32,
    size: u32,
}

/// A stream read from sectors: the bytes of whole sectors.
#[derive(Default)]
struct Stream {
    tab: Vec<u8>,
    /// Whether the stream exists (libmagic's `sst_tab != NULL`).
    present: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Miss {
    /// The stream is not in the directory (`ESRCH`).
    NotFound,
    /// It is there but cannot be read.
    Bad,
}

struct Doc<'a, S: Source> {
    buf: &'a [u8],
    src: &'a S,
    h: Header,
    sat: Vec<i32>,
}

impl<S: Source> Doc<'_, S> {
    /// `cdf_read`: from memory when the buffer covers it, else the file.
    fn read(&self, off: usize, len: usize) -> Option<Vec<u8>> {
        let end = off.checked_add(len)?;
        if end <= self.buf.len() {
            return Some(self.buf[off..end].to_vec());
        }
        let v = self.src.read_at(off as u64, len);
        (v.len() == len).then_some(v)
    }

    fn read_sector(&self, id: i32) -> Option<Vec<u8>> {
        let id = usize::try_from(id).ok()?;
        let pos = self.h.ss.checked_add(id.checked_mul(self.h.ss)?)?;
        self.read(pos, self.h.ss)
    }

    /// `cdf_count_chain` over `sat` whose sectors have `size` bytes.
    fn count_chain(sat: &[i32], mut sid: i32) -> Option<usize> {
        if sid == END_OF_CHAIN {
            return Some(0);
        }
        let max = sat.len();
        let mut i = 0;
        while sid >= 0 {
            if i >= LOOP_LIMIT || sid as usize >= max {
                return None;
            }
            sid = sat[sid as usize];
            i += 1;
        }
        (i != 0).then_some(i)
    }

    /// `cdf_read_long_sector_chain`.
    fn long_chain(&self, mut sid: i32, len: u32) -> Result<Stream, Miss> {
        let count = Self::count_chain(&self.sat, sid);
        if sid == END_OF_CHAIN || len == 0 {
            return Ok(Stream {
                tab: Vec::new(),
                present: true,
            });
        }
        let count = count.ok_or(Miss::Bad)?;
        let ss = self.h.ss;
        if count.saturating_mul(ss) > STREAM_MAX {
            return Err(Miss::Bad);
        }
        let mut tab = vec![0u8; count * ss];
        let mut i = 0;
        while sid >= 0 {
            if i >= LOOP_LIMIT || i >= count {
                return Err(Miss::Bad);
            }
            match self.read_sector(sid) {
                Some(s) => tab[i * ss..(i + 1) * ss].copy_from_slice(&s),
                None => {
                    // The last sector may be truncated.
                    let pos = ss + (sid as usize) * ss;
                    if i == count - 1 && pos < self.src.size() as usize {
                        let part = self.src.read_at(pos as u64, ss);
                        if !part.is_empty() {
                            tab[i * ss..i * ss + part.len()].copy_from_slice(&part);
                            return Ok(Stream { tab, present: true });
                        }
                    }
                    return Err(Miss::Bad);
                }
            }
            sid = self.sat.get(sid as usize).copied().ok_or(Miss::Bad)?;
            i += 1;
        }
        Ok(Stream { tab, present: true })
    }

    /// `cdf_read_short_sector_chain`.
    fn short_chain(&self, ssat: &[i32], sst: &Stream, mut sid: i32) -> Result<Stream, Miss> {
        let count = Self::count_chain(ssat, sid).ok_or(Miss::Bad)?;
        let sss = self.h.sss;
        if count.saturating_mul(sss) > STREAM_MAX {
            return Err(Miss::Bad);
        }
        let mut tab = vec![0u8; count * sss];
        let mut i = 0;
        while sid >= 0 {
            if i >= LOOP_LIMIT || i >= count {
                return Err(Miss::Bad);
            }
            let pos = (sid as usize).checked_mul(sss).ok_or(Miss::Bad)?;
            let src = sst.tab.get(pos..pos + sss).ok_or(Miss::Bad)?;
            tab[i * sss..(i + 1) * sss].copy_from_slice(src);
            sid = ssat.get(sid as usize).copied().ok_or(Miss::Bad)?;
            i += 1;
        }
        Ok(Stream { tab, present: true })
    }

    /// `cdf_read_user_stream`: a stream by name.
    fn user_stream(&self, ssat: &[i32], sst: &Stream, dir: &[DirEntry], name: &str) -> Result<Stream, Miss> {
        let i = find_stream(dir, name, USER_STREAM).ok_or(Miss::NotFound)?;
        let d = &dir[i];
        if d.size < self.h.min_std && sst.present {
            self.short_chain(ssat, sst, d.first)
        } else {
            self.long_chain(d.first, d.size)
        }
    }
}

fn find_stream(dir: &[DirEntry], name: &str, typ: u8) -> Option<usize> {
    let want: Vec<u16> = name.bytes().map(u16::from).chain(std::iter::once(0)).collect();
    (0..dir.len())
        .rev()
        .find(|&i| dir[i].typ == typ && dir[i].name.get(..want.len()) == Some(&want[..]))
}

fn read_header(buf: &[u8], src: &impl Source) -> Option<Header> {
    let h = if buf.len() >= 512 {
        buf[..512].to_vec()
    } else {
        let v = src.read_at(0, 512);
        if v.len() < 512 {
            return None;
        }
        v
    };
    if le64(&h, 0) != MAGIC {
        return None;
    }
    let p2 = le16(&h, 30);
    let sp2 = le16(&h, 32);
    if p2 > 20 || sp2 > 20 {
        return None;
    }
    Some(Header {
        ss: 1 << p2,
        sss: 1 << sp2,
        first_dir: le32(&h, 48) as i32,
        min_std: le32(&h, 56),
        first_ssat: le32(&h, 60) as i32,
        first_msat: le32(&h, 68) as i32,
        num_msat: le32(&h, 72),
        msat: (0..109).map(|k| le32(&h, 76 + 4 * k) as i32).collect(),
    })
}

fn secids(sector: &[u8]) -> impl Iterator<Item = i32> + '_ {
    sector
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

/// `cdf_read_sat`.
fn read_sat<S: Source>(doc: &Doc<'_, S>) -> Option<Vec<i32>> {
    let h = &doc.h;
    let ss = h.ss;
    if ss < 8 {
        return None;
    }
    let nsatpersec = ss / 4 - 1;
    let limit = u32::MAX as usize / (64 * ss);
    let i0 = h.msat.iter().position(|&s| s == -1).unwrap_or(h.msat.len());
    if h.num_msat as usize > limit / nsatpersec.max(1) || i0 > limit {
        return None;
    }
    let mut sat = Vec::new();
    for &s in &h.msat {
        if s < 0 {
            break;
        }
        sat.extend(secids(&doc.read_sector(s)?));
    }
    let mut mid = h.first_msat;
    for j in 0..h.num_msat as usize {
        if mid < 0 {
            break;
        }
        if j >= LOOP_LIMIT {
            return None;
        }
        let msa = doc.read_sector(mid)?;
        let ids: Vec<i32> = secids(&msa).collect();
        for &sec in &ids[..nsatpersec] {
            if sec < 0 {
                return Some(sat);
            }
            sat.extend(secids(&doc.read_sector(sec)?));
        }
        mid = ids[nsatpersec];
    }
    Some(sat)
}

fn read_dir<S: Source>(doc: &Doc<'_, S>) -> Option<Vec<DirEntry>> {
    let ss = doc.h.ss;
    let ns = Doc::<S>::count_chain(&doc.sat, doc.h.first_dir)?;
    if ns.saturating_mul(ss) > STREAM_MAX {
        return None;
    }
    let nd = ss / DIR_SIZE;
    let mut dir = Vec::with_capacity(ns * nd);
    let mut sid = doc.h.first_dir;
    for _ in 0..ns {
        let b = doc.read_sector(sid)?;
        for j in 0..nd {
            let e = &b[j * DIR_SIZE..(j + 1) * DIR_SIZE];
            let mut name = [0u16; 32];
            for (k, n) in name.iter_mut().enumerate() {
                *n = le16(e, 2 * k);
            }
            dir.push(DirEntry {
                name,
                typ: e[66],
                clsid: [le64(e, 80), le64(e, 88)],
                first: le32(e, 116) as i32,
                size: le32(e, 120),
            });
        }
        sid = *doc.sat.get(usize::try_from(sid).ok()?)?;
    }
    Some(dir)
}

fn read_ssat<S: Source>(doc: &Doc<'_, S>) -> Option<Vec<i32>> {
    let mut sid = doc.h.first_ssat;
    let n = Doc::<S>::count_chain(&doc.sat, sid)?;
    if n.saturating_mul(doc.h.ss) > STREAM_MAX {
        return None;
    }
    let mut ssat = Vec::new();
    let mut i = 0;
    while sid >= 0 {
        if i >= LOOP_LIMIT || i >= n {
            return None;
        }
        ssat.extend(secids(&doc.read_sector(sid)?));
        sid = *doc.sat.get(sid as usize)?;
        i += 1;
    }
    Some(ssat)
}

/// One property of a summary-information section.
struct Prop {
    id: u32,
    typ: u32,
    val: u64,
    s: Vec<u8>,
    slen: u32,
}

/// `cdf_read_property_info` (only what `cdf_file_property_info` uses).
fn read_props(sst: &[u8], unit_len: usize, offs: u32) -> Option<Vec<Prop>> {
    let avail = unit_len.min(sst.len());
    let within = |from: usize, len: usize| from.checked_add(len).is_some_and(|e| e <= avail);
    if offs > u32::MAX / 4 {
        return None;
    }
    let offs = offs as usize;
    if !within(offs, 8) {
        return None;
    }
    let sh_len = le32(sst, offs) as usize;
    if sh_len > (u32::MAX / 64) as usize || !within(offs, sh_len) {
        return None;
    }
    let nprops = le32(sst, offs + 4);
    if nprops > u32::MAX / (64 * 24) {
        return None;
    }
    let p = offs + 8;
    let e = offs + sh_len;
    if p >= e {
        return None;
    }
    let mut out: Vec<Prop> = Vec::new();
    let mut i = 0usize;
    while i < nprops as usize {
        let tail = (i << 1) + 1;
        if !within(p, (tail + 1) * 4) {
            return None;
        }
        let ofs = le32(sst, p + tail * 4) as usize;
        if ofs < 8 || ofs - 8 > e - p {
            return None;
        }
        let q = p + ofs - 8;
        let id = le32(sst, p + (i << 1) * 4);
        let left = e - q;
        if left < 4 {
            return None;
        }
        let typ = le32(sst, q);
        let (nelements, mut slen) = if typ & 0x1000 != 0 {
            if left < 8 {
                return None;
            }
            let n = le32(sst, q + 4);
            if n > ELEMENT_LIMIT || n == 0 {
                return None;
            }
            (n as usize, 2usize)
        } else {
            (1, 1)
        };
        let mut o4 = slen * 4;
        let mut prop = Prop {
            id,
            typ,
            val: 0,
            s: Vec::new(),
            slen: 0,
        };
        let copy = |len: usize| -> Option<u64> {
            if typ & 0x1000 != 0 || e - (q + o4) < len {
                return None;
            }
            Some(match len {
                2 => u64::from(le16(sst, q + o4)),
                4 => u64::from(le32(sst, q + o4)),
                _ => le64(sst, q + o4),
            })
        };
        if typ & (0x2000 | 0x4000 | 0x8000) == 0 {
            match typ & 0xfff {
                0x02 => prop.val = copy(2).unwrap_or(0),
                0x03 | 0x0b | 0x13 | 0x04 => prop.val = copy(4).unwrap_or(0),
                0x14 | 0x15 | 0x05 | 0x40 => prop.val = copy(8).unwrap_or(0),
                0x1e | 0x1f => {
                    // Vectors of strings are walked for their bounds only:
                    // their type makes `cdf_file_property_info` fail anyway.
                    let mut j = 0;
                    while j < nelements && i < nprops as usize {
                        if o4 + 4 > left {
                            return None;
                        }
                        let l = le32(sst, q + slen * 4) as usize;
                        o4 += 4;
                        if o4 + l > left {
                            return None;
                        }
                        if j == 0 {
                            prop.s = sst[q + o4..q + o4 + l].to_vec();
                            prop.slen = l as u32;
                        }
                        let l = if l & 1 == 1 { l + 1 } else { l };
                        slen += l >> 1;
                        o4 = slen * 4;
                        j += 1;
                        i += 1;
                    }
                    i -= 1;
                }
                _ => {}
            }
        }
        out.push(prop);
        i += 1;
    }
    Some(out)
}

const NAMES: &[(u32, &str)] = &[
    (0x01, "Code page"),
    (0x02, "Title"),
    (0x03, "Subject"),
    (0x04, "Author"),
    (0x05, "Keywords"),
    (0x06, "Comments"),
    (0x07, "Template"),
    (0x08, "Last Saved By"),
    (0x09, "Revision Number"),
    (0x0a, "Total Editing Time"),
    (0x0b, "Last Printed"),
    (0x0c, "Create Time/Date"),
    (0x0d, "Last Saved Time/Date"),
    (0x0e, "Number of Pages"),
    (0x0f, "Number of Words"),
    (0x10, "Number of Characters"),
    (0x11, "Thumbnail"),
    (0x12, "Name of Creating Application"),
    (0x13, "Security"),
    (0x8000_0000, "Locale ID"),
];

const APP2MIME: &[(&str, &str)] = &[
    ("Word", "msword"),
    ("Excel", "vnd.ms-excel"),
    ("Powerpoint", "vnd.ms-powerpoint"),
    ("Crystal Reports", "x-rpt"),
    ("Advanced Installer", "vnd.ms-msi"),
    ("InstallShield", "vnd.ms-msi"),
    ("Microsoft Patch Compiler", "vnd.ms-msi"),
    ("NAnt", "vnd.ms-msi"),
    ("Windows Installer", "vnd.ms-msi"),
];

const NAME2MIME: &[(&str, &str)] = &[
    ("Book", "vnd.ms-excel"),
    ("Workbook", "vnd.ms-excel"),
    ("WordDocument", "msword"),
    ("PowerPoint", "vnd.ms-powerpoint"),
    ("DigitalSignature", "vnd.ms-msi"),
];

const NAME2DESC: &[(&str, &str)] = &[
    ("Book", "Microsoft Excel"),
    ("Workbook", "Microsoft Excel"),
    ("WordDocument", "Microsoft Word"),
    ("PowerPoint", "Microsoft PowerPoint"),
    ("DigitalSignature", "Microsoft Installer"),
];

/// A document kind recognised from its streams (`cdf_file_dir_info`):
/// description, MIME subtype, and streams with their directory types.
type Section = (&'static str, &'static str, &'static [(&'static str, u8)]);

const SECTIONS: &[Section] = &[
    (
        "Encrypted",
        "encrypted",
        &[
            ("EncryptedPackage", USER_STREAM),
            ("EncryptedSummary", USER_STREAM),
        ],
    ),
    ("QuickBooks", "quickbooks", &[("mfbu_header", USER_STREAM)]),
    (
        "Microsoft Excel",
        "vnd.ms-excel",
        &[("Book", USER_STREAM), ("Workbook", USER_STREAM)],
    ),
    ("Microsoft Word", "msword", &[("WordDocument", USER_STREAM)]),
    (
        "Microsoft PowerPoint",
        "vnd.ms-powerpoint",
        &[("PowerPoint", USER_STREAM)],
    ),
    (
        "Microsoft Outlook Message",
        "vnd.ms-outlook",
        &[
            ("__properties_version1.0", USER_STREAM),
            ("__recip_version1.0_#00000000", USER_STORAGE),
        ],
    ),
];

/// `strcasestr` over a C string.
fn app_to(text: &[u8], table: &[(&'static str, &'static str)]) -> Option<&'static str> {
    let text = match memchr::memchr(0, text) {
        Some(n) => &text[..n],
        None => text,
    };
    let lower = text.to_ascii_lowercase();
    table
        .iter()
        .find(|(pat, _)| memchr::memmem::find(&lower, pat.to_ascii_lowercase().as_bytes()).is_some())
        .map(|(_, v)| *v)
}

fn elapsed(ts: i64) -> String {
    let mut ts = ts / 10_000_000;
    let secs = ts % 60;
    ts /= 60;
    let mins = ts % 60;
    ts /= 60;
    let hours = ts % 24;
    ts /= 24;
    let days = ts;
    let mut s = String::new();
    if days != 0 {
        s.push_str(&format!("{days}d+"));
    }
    if days != 0 || hours != 0 {
        s.push_str(&format!("{hours:02}:"));
    }
    s.push_str(&format!("{mins:02}:{secs:02}"));
    s
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

const MDAYS: [i64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// `cdf_timestamp_to_timespec` (its approximate calendar) then `ctime`.
fn timestamp(tp: i64) -> String {
    let mut t = tp / 10_000_000;
    let sec = t % 60;
    t /= 60;
    let min = t % 60;
    t /= 60;
    let hour = t % 24;
    t /= 24;
    let year = 1601 + t / 365;
    let rdays: i64 = (1601..year).map(|y| 365 + i64::from(is_leap(y))).sum();
    t -= rdays - 1;
    let mut day = t;
    for (m, d) in MDAYS.iter().enumerate() {
        let sub = d + i64::from(m == 1 && is_leap(year));
        if day < sub {
            break;
        }
        day -= sub;
    }
    let mut mon = 12;
    let mut left = t;
    for (m, d) in MDAYS.iter().enumerate() {
        left -= d;
        if m == 1 && is_leap(year) {
            left -= 1;
        }
        if left <= 0 {
            mon = m as i64;
            break;
        }
    }
    // mktime normalises day 0 and month 12.
    let (y, m) = (year + mon / 12, mon % 12);
    let days = days_from_civil(y, m + 1, 1) + day - 1;
    crate::format::datetime(days * 86_400 + hour * 3600 + min * 60 + sec)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `cdf_file_property_info`: 1 printed, 0 nothing (MIME mode), -1 error.
fn property_info(out: &mut Vec<u8>, mime: bool, props: &[Prop], root: Option<&DirEntry>) -> i32 {
    let mut str_: Option<&'static str> = None;
    if mime && root.is_some_and(|r| r.clsid == MSI_CLSID) {
        str_ = Some("x-msi");
    }
    for p in props {
        let name = NAMES
            .iter()
            .find(|(v, _)| *v == p.id)
            .map_or_else(|| format!("{:#x}", p.id), |(_, n)| (*n).to_owned());
        let text = match p.typ {
            0x01 => None,
            0x02 => Some((p.val as u16 as i16).to_string()),
            0x03 => Some((p.val as u32 as i32).to_string()),
            0x13 => Some((p.val as u32).to_string()),
            0x04 => Some(crate::format::format_g(
                f64::from(f32::from_bits(p.val as u32)),
                6,
                false,
            )),
            0x05 => Some(crate::format::format_g(f64::from_bits(p.val), 6, false)),
            0x1e | 0x1f => {
                let mut len = p.slen as i64;
                if len > 1 {
                    let k = if p.typ == 0x1f { 2 } else { 1 };
                    let mut v = Vec::new();
                    let mut idx = 0usize;
                    while idx < p.s.len() && v.len() < 1024 && len > 0 {
                        len -= 1;
                        let c = p.s[idx];
                        if c == 0 {
                            break;
                        }
                        if (0x20..0x7f).contains(&c) {
                            v.push(c);
                        }
                        idx += k;
                    }
                    if v.len() == 1024 {
                        v.pop();
                    }
                    if !mime {
                        if !v.is_empty() {
                            out.extend_from_slice(format!(", {name}: ").as_bytes());
                            out.extend_from_slice(&v);
                        }
                    } else if str_.is_none() && p.id == PROP_APPNAME {
                        str_ = app_to(&v, APP2MIME);
                    }
                }
                None
            }
            0x40 => {
                let tp = p.val as i64;
                if tp == 0 {
                    None
                } else if tp < 1_000_000_000_000_000 {
                    Some(elapsed(tp))
                } else {
                    Some(timestamp(tp))
                }
            }
            0x47 => None,
            _ => return -1,
        };
        if let (Some(t), false) = (text, mime) {
            out.extend_from_slice(format!(", {name}: {t}").as_bytes());
        }
    }
    if mime {
        match str_ {
            None => return 0,
            Some(s) => out.extend_from_slice(format!("application/{s}").as_bytes()),
        }
    }
    1
}

/// `cdf_file_summary_info` + `cdf_check_summary_info`.
fn summary(
    out: &mut Vec<u8>,
    mime: bool,
    sst: &[u8],
    root: Option<&DirEntry>,
    dir: &[DirEntry],
    expn: &mut &'static str,
) -> i32 {
    let unit_len = sst.len();
    let i = (|| -> i32 {
        if sst.len() < 0x1c + 20 || unit_len < 0x1c + 20 {
            return -1;
        }
        let byte_order = le16(sst, 0);
        let os_version = le16(sst, 4);
        let os = le16(sst, 6);
        let Some(props) = read_props(sst, unit_len, le32(sst, 0x1c + 16)) else {
            return -1;
        };
        if !mime {
            out.extend_from_slice(b"Composite Document File V2 Document");
            out.extend_from_slice(if byte_order == 0xfffe {
                b", Little Endian"
            } else {
                b", Big Endian"
            });
            let (lo, hi) = (os_version & 0xff, os_version >> 8);
            out.extend_from_slice(
                match os {
                    2 => format!(", Os: Windows, Version {lo}.{hi}"),
                    1 => format!(", Os: MacOS, Version {hi}.{lo}"),
                    _ => format!(", Os {os}, Version: {lo}.{hi}"),
                }
                .as_bytes(),
            );
            if root.is_some_and(|r| r.clsid == MSI_CLSID) {
                out.extend_from_slice(b", MSI Installer");
            }
        }
        match property_info(out, mime, &props, root) {
            -1 => -2,
            m => m,
        }
    })();
    if i < 0 {
        *expn = "Can't expand summary_info";
        return i;
    }
    if i == 1 {
        return 1;
    }
    let table = if mime { NAME2MIME } else { NAME2DESC };
    let found = dir.iter().find_map(|d| {
        let name: Vec<u8> = d.name.iter().map(|&c| c as u8).collect();
        app_to(&name, table)
    });
    if !mime {
        match found {
            Some(s) => {
                out.extend_from_slice(s.as_bytes());
                1
            }
            None => i,
        }
    } else {
        out.extend_from_slice(format!("application/{}", found.unwrap_or("vnd.ms-office")).as_bytes());
        1
    }
}

/// `file_trycdf` in one output mode: the return value and the output.
fn try_mode<S: Source>(buf: &[u8], src: &S, mime: bool) -> Option<(i32, Vec<u8>)> {
    let h = read_header(buf, src)?;
    let mut out = Vec::new();
    let mut expn: &'static str = "";
    let mut doc = Doc {
        buf,
        src,
        h,
        sat: Vec::new(),
    };
    let i = (|| -> i32 {
        let Some(sat) = read_sat(&doc) else {
            expn = "Can't read SAT";
            return -1;
        };
        doc.sat = sat;
        let Some(ssat) = read_ssat(&doc) else {
            expn = "Can't read SSAT";
            return -1;
        };
        let Some(dir) = read_dir(&doc) else {
            expn = "Can't read directory";
            return -1;
        };
        let root_idx = dir.iter().position(|d| d.typ == ROOT_STORAGE);
        let root = root_idx.map(|k| dir[k].clone());
        let sst = match &root {
            Some(r) if r.first >= 0 => match doc.long_chain(r.first, r.size) {
                Ok(s) => s,
                Err(_) => {
                    expn = "Cannot read short stream";
                    return -1;
                }
            },
            _ => Stream::default(),
        };
        if let Ok(s) = doc.user_stream(&ssat, &sst, &dir, "FileHeader") {
            if s.tab.starts_with(b"HWP Document File") {
                out.extend_from_slice(if mime {
                    &b"application/x-hwp"[..]
                } else {
                    &b"Hangul (Korean) Word Processor File 5.x"[..]
                });
                return 1;
            }
        }
        let mut i = match doc.user_stream(&ssat, &sst, &dir, "\u{5}SummaryInformation") {
            Err(e) => {
                if e != Miss::NotFound {
                    expn = "Cannot read summary info";
                }
                -1
            }
            Ok(s) => summary(&mut out, mime, &s.tab, root.as_ref(), &dir, &mut expn),
        };
        if i <= 0 {
            i = match doc.user_stream(&ssat, &sst, &dir, "\u{5}DocumentSummaryInformation") {
                Err(e) => {
                    if e != Miss::NotFound {
                        expn = "Cannot read summary info";
                    }
                    -1
                }
                Ok(s) => summary(&mut out, mime, &s.tab, root.as_ref(), &dir, &mut expn),
            };
        }
        if i <= 0 {
            i = -1;
            for (name, m, streams) in SECTIONS {
                if streams.iter().any(|(s, t)| find_stream(&dir, s, *t).is_some()) {
                    out.extend_from_slice(
                        if mime {
                            format!("application/{m}")
                        } else {
                            format!("CDFV2 {name}")
                        }
                        .as_bytes(),
                    );
                    i = 1;
                    break;
                }
            }
            if i < 0 {
                expn = "Cannot read section info";
            }
        }
        i
    })();
    if i != -1 {
        return Some((i, out));
    }
    if mime {
        out.extend_from_slice(b"application/x-ole-storage");
    } else {
        out.extend_from_slice(b"Composite Document File V2 Document");
        if !expn.is_empty() {
            out.extend_from_slice(format!(", {expn}").as_bytes());
        }
    }
    Some((1, out))
}

/// `file_trycdf` in both modes; `None` when the buffer is not CDF.
pub(crate) fn detect<S: Source>(buf: &[u8], src: &S) -> Option<Cdf> {
    let (rd, desc) = try_mode(buf, src, false)?;
    let (rm, mime) = try_mode(buf, src, true)?;
    Some(Cdf {
        desc: (rd != 0).then_some(desc),
        mime: (rm != 0).then_some(mime),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_cdf() {
        let b: &[u8] = b"plain text that is long enough to not be anything";
        assert!(detect(b, &b).is_none());
    }

    #[test]
    fn empty_tables_give_the_default_description() {
        let mut b = vec![0u8; 512];
        b[..8].copy_from_slice(&MAGIC.to_le_bytes());
        b[30] = 9;
        b[32] = 6;
        for k in 0..109 {
            b[76 + 4 * k..80 + 4 * k].copy_from_slice(&(-1i32).to_le_bytes());
        }
        b[48..52].copy_from_slice(&0i32.to_le_bytes());
        let src: &[u8] = &b;
        let c = detect(&b, &src).expect("CDF header");
        // file 5.44 says the same of this header (an empty SAT).
        assert_eq!(
            c.desc.as_deref(),
            Some(&b"Composite Document File V2 Document, Can't read SSAT"[..])
        );
        assert_eq!(c.mime.as_deref(), Some(&b"application/x-ole-storage"[..]));
    }

    #[test]
    fn times() {
        assert_eq!(elapsed(3_600 * 10_000_000 + 61 * 10_000_000), "01:01:01");
        // What file 5.44's own conversion gives under TZ=UTC (its approximate
        // calendar is a day late here; the reference in cdf_time.c is stale).
        assert_eq!(timestamp(0x01A5_E403_C2D5_9C00), "Sun Apr 24 01:30:00 1977");
        assert_eq!(timestamp(132_000_000_000_000_000), "Wed Apr 17 18:40:00 2019");
        assert_eq!(timestamp(130_000_000_000_000_000), "Fri Dec 14 23:06:40 2012");
    }
}
