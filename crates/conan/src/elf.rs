//! ELF details libmagic reads in C (`readelf.c`) and appends to the
//! database's "ELF 64-bit LSB ..." line: linking, interpreter, build ID,
//! target OS, debug info and whether the file is stripped. The dynamic
//! section also decides "pie executable" vs "shared object" (DF_1_PIE).
//!
//! Reads go through [`Source`] so that a file larger than the buffer kept
//! in memory is read where its headers are, like libmagic's `pread`.

/// Random access to the whole file.
pub(crate) trait Source {
    /// Reads up to `len` bytes at `off`; fewer at the end of the file.
    fn read_at(&self, off: u64, len: usize) -> Vec<u8>;
    /// The file size.
    fn size(&self) -> u64;
}

impl Source for &[u8] {
    fn read_at(&self, off: u64, len: usize) -> Vec<u8> {
        let Ok(off) = usize::try_from(off) else {
            return Vec::new();
        };
        match self.get(off..) {
            Some(rest) => rest[..rest.len().min(len)].to_vec(),
            None => Vec::new(),
        }
    }
    fn size(&self) -> u64 {
        self.len() as u64
    }
}

/// What the ELF reader found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Details {
    /// Text appended to the description.
    pub(crate) suffix: String,
    /// The executable bit as libmagic leaves it (`None`: unchanged).
    pub(crate) exec: Option<bool>,
}

const PHNUM_MAX: u16 = 2048;
const SHNUM_MAX: u16 = 32768;
const NOTES_MAX: u16 = 256;
const BUFSIZ: usize = 8192;
const MAX_SHSIZE: u64 = 64 * 1024 * 1024;

const FLAGS_DID_OS_NOTE: u32 = 1;
const FLAGS_DID_BUILD_ID: u32 = 2;

struct Elf<'s, S: Source> {
    src: &'s S,
    big: bool,
    class64: bool,
    out: String,
    exec: Option<bool>,
    flags: u32,
    notecount: u16,
}

fn u16_at(b: &[u8], at: usize, big: bool) -> u16 {
    let w = [
        b.get(at).copied().unwrap_or(0),
        b.get(at + 1).copied().unwrap_or(0),
    ];
    if big {
        u16::from_be_bytes(w)
    } else {
        u16::from_le_bytes(w)
    }
}

fn u32_at(b: &[u8], at: usize, big: bool) -> u32 {
    let mut w = [0u8; 4];
    for (k, x) in w.iter_mut().enumerate() {
        *x = b.get(at + k).copied().unwrap_or(0);
    }
    if big {
        u32::from_be_bytes(w)
    } else {
        u32::from_le_bytes(w)
    }
}

fn u64_at(b: &[u8], at: usize, big: bool) -> u64 {
    let mut w = [0u8; 8];
    for (k, x) in w.iter_mut().enumerate() {
        *x = b.get(at + k).copied().unwrap_or(0);
    }
    if big {
        u64::from_be_bytes(w)
    } else {
        u64::from_le_bytes(w)
    }
}

/// `file_tryelf`: `None` when the buffer is not ELF.
pub(crate) fn details<S: Source>(head: &[u8], src: &S) -> Option<Details> {
    if head.len() <= 5
        || head[0] != 0x7f
        || (head[1] != b'E' && head[1] != b'e')
        || head[2] != b'L'
        || head[3] != b'F'
    {
        return None;
    }
    let class64 = match head[4] {
        1 => false,
        2 => true,
        c => {
            return Some(Details {
                suffix: format!(", unknown class {c}"),
                exec: None,
            });
        }
    };
    // Too short to hold the ELF header: no details.
    if head.len() <= if class64 { 64 } else { 52 } {
        return None;
    }
    // libmagic swaps unless EI_DATA names the host order; an unknown
    // value therefore reads as the opposite of the host.
    let host_data = if cfg!(target_endian = "little") { 1 } else { 2 };
    // big-endian exactly when the data is not in the host's order on a
    // little-endian host (or is, on a big-endian one)
    let big = (head[5] == host_data) == cfg!(target_endian = "big");
    let mut e = Elf {
        src,
        big,
        class64,
        out: String::new(),
        exec: None,
        flags: 0,
        notecount: NOTES_MAX,
    };
    let hdr = src.read_at(0, 64);
    let typ = u16_at(&hdr, 16, big);
    let (phoff, shoff, phentsize, phnum, shentsize, shnum, shstrndx) = if class64 {
        (
            u64_at(&hdr, 32, big),
            u64_at(&hdr, 40, big),
            u16_at(&hdr, 54, big),
            u16_at(&hdr, 56, big),
            u16_at(&hdr, 58, big),
            u16_at(&hdr, 60, big),
            u16_at(&hdr, 62, big),
        )
    } else {
        (
            u64::from(u32_at(&hdr, 28, big)),
            u64::from(u32_at(&hdr, 32, big)),
            u16_at(&hdr, 42, big),
            u16_at(&hdr, 44, big),
            u16_at(&hdr, 46, big),
            u16_at(&hdr, 48, big),
            u16_at(&hdr, 50, big),
        )
    };
    match typ {
        2 | 3 => {
            if phnum > PHNUM_MAX {
                e.out.push_str(&format!(", too many program ({phnum})"));
                return Some(e.finish());
            }
            if shnum > SHNUM_MAX {
                e.out.push_str(&format!(", too many section ({shnum})"));
                return Some(e.finish());
            }
            e.phdrs(phoff, phnum, usize::from(phentsize), shnum);
            e.shdrs(shoff, shnum, usize::from(shentsize), shstrndx);
        }
        1 => {
            if shnum > SHNUM_MAX {
                e.out.push_str(&format!(", too many section headers ({shnum})"));
                return Some(e.finish());
            }
            e.shdrs(shoff, shnum, usize::from(shentsize), shstrndx);
        }
        _ => {}
    }
    if e.notecount == 0 {
        e.out.push_str(&format!(", too many notes ({NOTES_MAX})"));
    }
    Some(e.finish())
}

fn align_up(x: usize, align: usize) -> usize {
    x.div_ceil(align).saturating_mul(align)
}

impl<S: Source> Elf<'_, S> {
    fn finish(self) -> Details {
        Details {
            suffix: self.out,
            exec: self.exec,
        }
    }

    /// `dophn_exec`.
    fn phdrs(&mut self, mut off: u64, num: u16, size: usize, shnum: u16) {
        let big = self.big;
        if num == 0 {
            self.out.push_str(", no program header");
            return;
        }
        let want = if self.class64 { 56 } else { 32 };
        if size != want {
            self.out.push_str(", corrupted program header size");
            return;
        }
        let fsize = self.src.size();
        let (mut pie, mut dynamic, mut need) = (false, false, 0usize);
        let mut interp: Option<Vec<u8>> = None;
        for _ in 0..num {
            let ph = self.src.read_at(off, size);
            if ph.len() < size {
                self.out
                    .push_str(&format!(", can't read elf program headers at {off}"));
                return;
            }
            off += size as u64;
            let (ptype, poffset, pfilesz, palign) = if self.class64 {
                (
                    u32_at(&ph, 0, big),
                    u64_at(&ph, 8, big),
                    u64_at(&ph, 32, big),
                    u64_at(&ph, 48, big),
                )
            } else {
                (
                    u32_at(&ph, 0, big),
                    u64::from(u32_at(&ph, 4, big)),
                    u64::from(u32_at(&ph, 16, big)),
                    u64::from(u32_at(&ph, 28, big)),
                )
            };
            let mut align = 4usize;
            match ptype {
                2 | 3 => {}
                4 => {
                    if shnum != 0 {
                        continue;
                    }
                    if palign & 0x8000_0000 != 0 || palign < 4 {
                        self.out
                            .push_str(&format!(", invalid note alignment {palign:#x}"));
                    } else {
                        align = usize::try_from(palign).unwrap_or(4);
                    }
                }
                _ => continue,
            }
            let len = usize::try_from(pfilesz).unwrap_or(usize::MAX).min(BUFSIZ);
            let nbuf = if poffset > fsize {
                Vec::new()
            } else {
                self.src.read_at(poffset, len)
            };
            match ptype {
                2 => {
                    dynamic = true;
                    self.exec = Some(false);
                    let dsz = if self.class64 { 16 } else { 8 };
                    let mut o = 0;
                    while o + dsz <= nbuf.len() {
                        let (tag, val) = if self.class64 {
                            (u64_at(&nbuf, o, big), u64_at(&nbuf, o + 8, big))
                        } else {
                            (
                                u64::from(u32_at(&nbuf, o, big)),
                                u64::from(u32_at(&nbuf, o + 4, big)),
                            )
                        };
                        match tag {
                            0x6fff_fffb => {
                                pie = true;
                                self.exec = Some(val & 0x0800_0000 != 0);
                            }
                            1 => need += 1,
                            _ => {}
                        }
                        o += dsz;
                    }
                }
                3 => {
                    need += 1;
                    interp = Some(if !nbuf.is_empty() && nbuf[0] != 0 {
                        let mut v = nbuf.clone();
                        if let Some(last) = v.last_mut() {
                            *last = 0;
                        }
                        v
                    } else {
                        b"*empty*".to_vec()
                    });
                }
                _ => {
                    let mut o = 0;
                    while o < nbuf.len() {
                        match self.note(&nbuf, o, align) {
                            Some(n) => o = n,
                            None => break,
                        }
                    }
                }
            }
        }
        let style = if dynamic {
            if pie && need == 0 {
                "static-pie"
            } else {
                "dynamically"
            }
        } else {
            "statically"
        };
        self.out.push_str(&format!(", {style} linked"));
        if let Some(i) = interp {
            let p = crate::format::printable(&i);
            self.out.push_str(", interpreter ");
            self.out.push_str(&String::from_utf8_lossy(&p));
        }
    }

    /// `doshn`.
    fn shdrs(&mut self, mut off: u64, num: u16, size: usize, strtab: u16) {
        let big = self.big;
        if num == 0 {
            self.out.push_str(", no section header");
            return;
        }
        let want = if self.class64 { 64 } else { 40 };
        if size != want {
            self.out.push_str(", corrupted section header size");
            return;
        }
        let fsize = self.src.size();
        let class64 = self.class64;
        let sh_offset = move |sh: &[u8]| {
            if class64 {
                u64_at(sh, 24, big)
            } else {
                u64::from(u32_at(sh, 16, big))
            }
        };
        let sh_size = move |sh: &[u8]| {
            if class64 {
                u64_at(sh, 32, big)
            } else {
                u64::from(u32_at(sh, 20, big))
            }
        };
        let offs = off.wrapping_add((size as u64).wrapping_mul(u64::from(strtab)));
        let sh = self.src.read_at(offs, size);
        if sh.len() < size {
            self.out.push_str(&format!(", missing section headers at {offs}"));
            return;
        }
        let name_off = sh_offset(&sh);
        if fsize < name_off {
            self.out
                .push_str(&format!(", too large section header offset {name_off}"));
            return;
        }
        let (mut stripped, mut debug_info) = (true, false);
        for _ in 0..num {
            let sh = self.src.read_at(off, size);
            if sh.len() < size {
                self.out.push_str(&format!(", can't read elf section at {off}"));
                return;
            }
            let name = self
                .src
                .read_at(name_off.wrapping_add(u64::from(u32_at(&sh, 0, big))), 49);
            let name = match memchr::memchr(0, &name) {
                Some(n) => &name[..n],
                None => &name[..],
            };
            if name == b".debug_info" {
                debug_info = true;
                stripped = false;
            }
            off += size as u64;
            let stype = u32_at(&sh, 4, big);
            let (soff, ssize) = (sh_offset(&sh), sh_size(&sh));
            if stype == 2 {
                stripped = false;
            } else if soff > fsize {
                continue;
            }
            if stype == 7 {
                if ssize.saturating_add(soff) > fsize {
                    self.out.push_str(&format!(
                        ", note offset/size {soff:#x}+{ssize:#x} exceeds file size {fsize:#x}"
                    ));
                    return;
                }
                if ssize > MAX_SHSIZE {
                    return;
                }
                let nbuf = self.src.read_at(soff, ssize as usize);
                if (nbuf.len() as u64) < ssize {
                    self.out.push_str(&format!(", can't read elf note at {soff}"));
                    return;
                }
                let mut o = 0;
                while o < nbuf.len() {
                    match self.note(&nbuf, o, 4) {
                        Some(n) => o = n,
                        None => break,
                    }
                }
            }
        }
        if debug_info {
            self.out.push_str(", with debug_info");
        }
        self.out
            .push_str(if stripped { ", stripped" } else { ", not stripped" });
    }

    /// `donote`: returns the next offset, `None` to stop.
    fn note(&mut self, nbuf: &[u8], offset: usize, align: usize) -> Option<usize> {
        let big = self.big;
        let size = nbuf.len();
        if self.notecount == 0 {
            return None;
        }
        self.notecount -= 1;
        if offset + 12 > size {
            return Some(offset + 12);
        }
        let namesz = u32_at(nbuf, offset, big);
        let descsz = u32_at(nbuf, offset + 4, big);
        let ntype = u32_at(nbuf, offset + 8, big);
        let offset = offset + 12;
        if namesz == 0 && descsz == 0 {
            return Some(offset.max(size));
        }
        if namesz & 0x8000_0000 != 0 {
            self.out.push_str(&format!(", bad note name size {namesz:#x}"));
            return None;
        }
        if descsz & 0x8000_0000 != 0 {
            self.out
                .push_str(&format!(", bad note description size {descsz:#x}"));
            return None;
        }
        let (namesz, descsz) = (namesz as usize, descsz as usize);
        let noff = offset;
        let doff = align_up(offset + namesz, align);
        if offset + namesz > size {
            return Some(doff);
        }
        let next = align_up(doff + descsz, align);
        if doff + descsz > size {
            return Some(next.max(size));
        }
        let name = &nbuf[noff..noff + namesz];
        let name = match memchr::memchr(0, name) {
            Some(n) => &name[..n],
            None => name,
        };
        let desc = &nbuf[doff..doff + descsz];
        if self.flags & FLAGS_DID_OS_NOTE == 0 && self.os_note(name, namesz, ntype, desc) {
            return Some(next);
        }
        if self.flags & FLAGS_DID_BUILD_ID == 0 && self.build_id(name, namesz, ntype, desc) {
            return Some(next);
        }
        Some(next)
    }

    fn os_note(&mut self, name: &[u8], namesz: usize, ntype: u32, desc: &[u8]) -> bool {
        let big = self.big;
        if namesz == 5 && name == b"SuSE" && ntype == 1 && desc.len() == 2 {
            self.flags |= FLAGS_DID_OS_NOTE;
            self.out.push_str(&format!(", for SuSE {}.{}", desc[0], desc[1]));
            return true;
        }
        if namesz == 4 && name == b"GNU" && ntype == 1 && desc.len() == 16 {
            self.flags |= FLAGS_DID_OS_NOTE;
            let os = match u32_at(desc, 0, big) {
                0 => "Linux",
                1 => "Hurd",
                2 => "Solaris",
                3 => "kFreeBSD",
                4 => "kNetBSD",
                _ => "<unknown>",
            };
            self.out.push_str(&format!(
                ", for GNU/{os} {}.{}.{}",
                u32_at(desc, 4, big) as i32,
                u32_at(desc, 8, big) as i32,
                u32_at(desc, 12, big) as i32
            ));
            return true;
        }
        if namesz == 8 && name == b"OpenBSD" && ntype == 1 && desc.len() == 4 {
            self.flags |= FLAGS_DID_OS_NOTE;
            self.out.push_str(", for OpenBSD");
            return true;
        }
        false
    }

    fn build_id(&mut self, name: &[u8], namesz: usize, ntype: u32, desc: &[u8]) -> bool {
        if namesz == 4 && name == b"GNU" && ntype == 3 && (4..=20).contains(&desc.len()) {
            self.flags |= FLAGS_DID_BUILD_ID;
            let kind = match desc.len() {
                8 => "xxHash",
                16 => "md5/uuid",
                20 => "sha1",
                _ => "unknown",
            };
            self.out.push_str(&format!(", BuildID[{kind}]="));
            for b in desc {
                self.out.push_str(&format!("{b:02x}"));
            }
            return true;
        }
        if namesz == 4 && name == b"Go" && ntype == 4 && desc.len() < 128 {
            let id = match memchr::memchr(0, desc) {
                Some(n) => &desc[..n],
                None => desc,
            };
            self.out.push_str(", Go BuildID=");
            self.out.push_str(&String::from_utf8_lossy(id));
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal 64-bit little-endian ET_DYN with a dynamic section
    /// (DT_FLAGS_1 = DF_1_PIE, one DT_NEEDED) and no sections.
    fn tiny_pie() -> Vec<u8> {
        let mut f = vec![0u8; 64 + 56 + 32];
        f[..6].copy_from_slice(b"\x7fELF\x02\x01");
        f[16..18].copy_from_slice(&3u16.to_le_bytes());
        f[32..40].copy_from_slice(&64u64.to_le_bytes());
        f[54..56].copy_from_slice(&56u16.to_le_bytes());
        f[56..58].copy_from_slice(&1u16.to_le_bytes());
        f[58..60].copy_from_slice(&64u16.to_le_bytes());
        let ph = 64;
        f[ph..ph + 4].copy_from_slice(&2u32.to_le_bytes());
        f[ph + 8..ph + 16].copy_from_slice(&120u64.to_le_bytes());
        f[ph + 32..ph + 40].copy_from_slice(&32u64.to_le_bytes());
        f[120..128].copy_from_slice(&0x6fff_fffbu64.to_le_bytes());
        f[128..136].copy_from_slice(&0x0800_0000u64.to_le_bytes());
        f[136..144].copy_from_slice(&1u64.to_le_bytes());
        f
    }

    #[test]
    fn pie_flag_and_linking() {
        let f = tiny_pie();
        let src: &[u8] = &f;
        let d = details(&f, &src).expect("ELF");
        assert_eq!(d.exec, Some(true));
        assert_eq!(d.suffix, ", dynamically linked, no section header");
    }

    #[test]
    fn not_elf_and_truncated() {
        let src: &[u8] = b"hello";
        assert_eq!(details(b"hello world", &src), None);
        let f = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00";
        let src: &[u8] = f;
        assert_eq!(details(f, &src), None, "shorter than the header");
        let mut f = f.to_vec();
        f.resize(80, 0);
        let src: &[u8] = &f;
        let d = details(&f, &src).expect("ELF");
        assert_eq!(d.suffix, ", no program header, no section header");
    }
}
