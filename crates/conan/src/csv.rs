//! The CSV check of libmagic (`is_csv.c`): the first lines of a text
//! buffer have the same number of commas (outside quotes).

/// libmagic's `CSV_LINES`: lines looked at.
const CSV_LINES: usize = 10;

/// A buffer recognised as CSV.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Csv;

fn eat_quote(b: &[u8], mut i: usize) -> usize {
    let mut quote = false;
    while i < b.len() {
        let c = b[i];
        i += 1;
        if c != b'"' {
            if quote {
                return i - 1;
            }
            continue;
        }
        quote = !quote;
    }
    b.len()
}

/// `csv_parse`.
pub(crate) fn detect(b: &[u8]) -> Option<Csv> {
    let (mut nf, mut tf, mut nl) = (0usize, 0usize, 0usize);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        i += 1;
        match c {
            b'"' => i = eat_quote(b, i),
            b',' => nf += 1,
            b'\n' => {
                nl += 1;
                if nl == CSV_LINES {
                    return (tf != 0 && tf == nf).then_some(Csv);
                }
                if tf == 0 {
                    if nf == 0 {
                        return None;
                    }
                    tf = nf;
                } else if tf != nf {
                    return None;
                }
                nf = 0;
            }
            _ => {}
        }
    }
    (tf != 0 && nl > 2).then_some(Csv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines() {
        assert_eq!(detect(b"a,b\n1,2\n3,\"x,y\"\n4,5\n"), Some(Csv));
        assert_eq!(detect(b"a,b\n1,2,3\n4,5\n6,7\n"), None);
        assert_eq!(detect(b"plain\ntext\nhere\n"), None);
    }
}
