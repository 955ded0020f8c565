//! The tar check libmagic does in C before the database (`is_tar.c`): a
//! 512-byte header whose checksum adds up.

/// The kind of tar archive a buffer starts with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Tar {
    Old,
    Posix,
    Gnu,
}

impl Tar {
    pub(crate) fn description(self) -> &'static str {
        match self {
            Tar::Old => "tar archive",
            Tar::Posix => "POSIX tar archive",
            Tar::Gnu => "POSIX tar archive (GNU)",
        }
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// `from_oct`: -1 for a blank or non-octal field.
fn from_oct(field: &[u8]) -> i64 {
    let mut i = 0;
    while i < field.len() && is_space(field[i]) {
        i += 1;
    }
    if i == field.len() {
        return -1;
    }
    let mut v: i64 = 0;
    while i < field.len() && (b'0'..=b'7').contains(&field[i]) {
        v = ((v << 3) | i64::from(field[i] - b'0')) & 0xffff_ffff;
        i += 1;
    }
    if i < field.len() && field[i] != 0 && !is_space(field[i]) {
        return -1;
    }
    v as i32 as i64
}

/// `is_tar`.
pub(crate) fn detect(buf: &[u8]) -> Option<Tar> {
    let h = buf.get(..512)?;
    let name = &h[..100];
    if let Some(nul) = memchr::memchr(0, name) {
        if nul >= 7 && &name[nul - 7..nul] == b"/gpkg-1" {
            return None;
        }
    }
    let recsum = from_oct(&h[148..156]);
    let mut sum: i64 = h.iter().map(|&b| i64::from(b)).sum();
    sum -= h[148..156].iter().map(|&b| i64::from(b)).sum::<i64>();
    sum += i64::from(b' ') * 8;
    if sum != recsum {
        return None;
    }
    let magic = &h[257..265];
    let cmp = |want: &[u8]| {
        // strncmp over 8 bytes: equal up to the first NUL of either.
        for (k, &a) in magic.iter().enumerate() {
            let b = want.get(k).copied().unwrap_or(0);
            if a != b {
                return false;
            }
            if a == 0 {
                return true;
            }
        }
        true
    };
    if cmp(b"ustar  ") {
        Some(Tar::Gnu)
    } else if cmp(b"ustar") {
        Some(Tar::Posix)
    } else {
        Some(Tar::Old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_checksum() {
        let mut h = vec![0u8; 512];
        h[..5].copy_from_slice(b"a.txt");
        h[257..263].copy_from_slice(b"ustar\0");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        let field = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(field.as_bytes());
        assert_eq!(detect(&h), Some(Tar::Posix));
        h[0] = b'b';
        assert_eq!(detect(&h), None);
        assert_eq!(detect(&[0u8; 100]), None);
    }
}
