//! Git's delta format, as the entries of a received pack carry it: a
//! target object described as copies from a base object and inserted
//! bytes. Indexing a pack applies each delta to its base to learn the
//! object's id; this decoder checks every size and range on the way, as
//! the bytes come from the peer.
//!
//! ```
//! // base "hello world", target "hello there": copy 6 bytes at 0, insert "there".
//! let delta = [11, 11, 0x90, 6, 5, b't', b'h', b'e', b'r', b'e'];
//! let mut out = Vec::new();
//! smart::delta::apply(b"hello world", &delta, &mut out).unwrap();
//! assert_eq!(out, b"hello there");
//! ```

/// Why a delta cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeltaError {
    /// The delta ends inside its header or an instruction.
    #[error("the delta is truncated")]
    Truncated,
    /// The base size the delta was made against is not the base's size.
    #[error("the delta expects a base of {expected} bytes, the base has {actual}")]
    BaseSize {
        /// What the delta header says.
        expected: u64,
        /// The size of the base at hand.
        actual: usize,
    },
    /// A copy reaches past the end of the base.
    #[error("a copy of {size} bytes at offset {offset} reaches past the base's {base} bytes")]
    CopyOutOfRange {
        /// Where the copy starts in the base.
        offset: u64,
        /// How many bytes it copies.
        size: u64,
        /// The size of the base.
        base: usize,
    },
    /// Instruction byte 0 is reserved.
    #[error("the delta uses the reserved instruction 0")]
    ReservedInstruction,
    /// The instructions do not produce the size the header announces.
    #[error("the delta announces {expected} bytes but produces {actual} or more")]
    ResultSize {
        /// What the delta header says.
        expected: u64,
        /// What the instructions produce (at least).
        actual: u64,
    },
}

/// The two sizes a delta starts with: the base's and the result's.
/// Returns them and the rest of the delta (the instructions).
pub fn sizes(delta: &[u8]) -> Result<(u64, u64, &[u8]), DeltaError> {
    let (base, rest) = varint(delta)?;
    let (result, rest) = varint(rest)?;
    Ok((base, result, rest))
}

/// Applies `delta` to `base`, replacing the contents of `out` with the result.
pub fn apply(base: &[u8], delta: &[u8], out: &mut Vec<u8>) -> Result<(), DeltaError> {
    let (base_size, result_size, mut ops) = sizes(delta)?;
    if base_size != base.len() as u64 {
        return Err(DeltaError::BaseSize {
            expected: base_size,
            actual: base.len(),
        });
    }
    out.clear();
    // Each instruction byte yields at most the whole base (a copy) or 127
    // bytes (an insert): a larger announced size cannot be honest, so it
    // does not get to size the allocation.
    let bound = (ops.len() as u64).saturating_mul(base.len().max(127) as u64);
    if result_size > bound {
        return Err(DeltaError::ResultSize {
            expected: result_size,
            actual: bound,
        });
    }
    out.reserve(usize::try_from(result_size).map_err(|_| DeltaError::ResultSize {
        expected: result_size,
        actual: bound,
    })?);
    while let Some((&cmd, rest)) = ops.split_first() {
        ops = rest;
        if cmd & 0x80 != 0 {
            let mut offset = 0u64;
            let mut size = 0u64;
            for (bit, shift) in [(0x01, 0), (0x02, 8), (0x04, 16), (0x08, 24)] {
                if cmd & bit != 0 {
                    let (&b, rest) = ops.split_first().ok_or(DeltaError::Truncated)?;
                    ops = rest;
                    offset |= u64::from(b) << shift;
                }
            }
            for (bit, shift) in [(0x10, 0), (0x20, 8), (0x40, 16)] {
                if cmd & bit != 0 {
                    let (&b, rest) = ops.split_first().ok_or(DeltaError::Truncated)?;
                    ops = rest;
                    size |= u64::from(b) << shift;
                }
            }
            if size == 0 {
                size = 0x10000;
            }
            let range = usize::try_from(offset)
                .ok()
                .zip(usize::try_from(offset + size).ok())
                .and_then(|(start, end)| base.get(start..end))
                .ok_or(DeltaError::CopyOutOfRange {
                    offset,
                    size,
                    base: base.len(),
                })?;
            push(out, range, result_size)?;
        } else if cmd != 0 {
            let n = usize::from(cmd);
            let insert = ops.get(..n).ok_or(DeltaError::Truncated)?;
            ops = &ops[n..];
            push(out, insert, result_size)?;
        } else {
            return Err(DeltaError::ReservedInstruction);
        }
    }
    if out.len() as u64 != result_size {
        return Err(DeltaError::ResultSize {
            expected: result_size,
            actual: out.len() as u64,
        });
    }
    Ok(())
}

fn push(out: &mut Vec<u8>, bytes: &[u8], limit: u64) -> Result<(), DeltaError> {
    let len = out.len() as u64 + bytes.len() as u64;
    if len > limit {
        return Err(DeltaError::ResultSize {
            expected: limit,
            actual: len,
        });
    }
    out.extend_from_slice(bytes);
    Ok(())
}

/// A little-endian base-128 size, 7 bits a byte, high bit: more follows.
fn varint(mut data: &[u8]) -> Result<(u64, &[u8]), DeltaError> {
    let mut value = 0u64;
    let mut shift = 0u32;
    loop {
        let (&b, rest) = data.split_first().ok_or(DeltaError::Truncated)?;
        data = rest;
        if shift > 63 {
            // More than 64 bits of size: no object is that large.
            return Err(DeltaError::Truncated);
        }
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok((value, data));
        }
        shift += 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(base: &[u8], delta: &[u8]) -> Result<Vec<u8>, DeltaError> {
        let mut out = Vec::new();
        apply(base, delta, &mut out).map(|()| out)
    }

    #[test]
    fn copies_and_inserts() {
        // copy 5 at 6 ("world"), insert ", ", copy 5 at 0 ("hello")
        let delta = [11, 12, 0x91, 6, 5, 2, b',', b' ', 0x90, 5];
        assert_eq!(run(b"hello world", &delta).unwrap(), b"world, hello");
    }

    #[test]
    fn copy_size_zero_means_64k() {
        let base = vec![7u8; 0x10000];
        // base size 65536 = 0x80 0x80 0x04, result the same, one copy with no size bytes.
        let delta = [0x80, 0x80, 0x04, 0x80, 0x80, 0x04, 0x80];
        assert_eq!(run(&base, &delta).unwrap(), base);
    }

    #[test]
    fn rejects_what_does_not_add_up() {
        assert_eq!(
            run(b"abc", &[4, 1, 1, b'x']),
            Err(DeltaError::BaseSize {
                expected: 4,
                actual: 3
            })
        );
        assert_eq!(run(b"abc", &[3]), Err(DeltaError::Truncated));
        assert_eq!(run(b"abc", &[3, 1, 0]), Err(DeltaError::ReservedInstruction));
        assert_eq!(run(b"abc", &[3, 2, 2, b'x']), Err(DeltaError::Truncated));
        assert_eq!(
            run(b"abc", &[3, 2, 0x91, 2, 2]),
            Err(DeltaError::CopyOutOfRange {
                offset: 2,
                size: 2,
                base: 3
            })
        );
        assert_eq!(
            run(b"abc", &[3, 2, 0x90, 3]),
            Err(DeltaError::ResultSize {
                expected: 2,
                actual: 3
            })
        );
        assert_eq!(
            run(b"abc", &[3, 4, 0x90, 3]),
            Err(DeltaError::ResultSize {
                expected: 4,
                actual: 3
            })
        );
        // An announced size no instruction stream of this length can reach.
        assert!(matches!(
            run(b"abc", &[3, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, b'x']),
            Err(DeltaError::ResultSize { .. })
        ));
        // Found by the fuzzer (smart_delta): a 4 GB result announced by a
        // few hundred bytes of instructions against a 0-byte base.
        let mut oom = vec![0, 0xff, 0xff, 0xff, 0xfd, 0x0a, 0xff];
        oom.extend_from_slice(&[0x14; 36]);
        oom.extend_from_slice(&[0xff; 150]);
        assert!(matches!(run(b"", &oom), Err(DeltaError::ResultSize { .. })));
        // A size with more than 64 bits.
        assert_eq!(run(b"", &[0xff; 11]), Err(DeltaError::Truncated));
    }

    #[test]
    fn applies_a_line_edit() {
        let base = b"line one\nline two\nline three\n";
        let target = b"line one\nline 2\nline three\nline four\n";
        let mut delta = vec![base.len() as u8, target.len() as u8];
        delta.extend_from_slice(&[0x90, 14, 1, b'2', 0x91, 17, 12, 10]);
        delta.extend_from_slice(b"line four\n");
        assert_eq!(run(base, &delta).unwrap(), target);
    }
}
