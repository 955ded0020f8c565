//! Push refspecs: `[+]<src>[:<dst>]`, `:<dst>` to delete.

use std::str::FromStr;

use crate::Error;

/// What to push where.
///
/// ```
/// use smart::Refspec;
///
/// let spec: Refspec = "+main:refs/heads/release".parse()?;
/// assert!(spec.force);
/// assert_eq!(spec.src.as_deref(), Some("main"));
/// assert_eq!(spec.dst, "refs/heads/release");
///
/// let delete: Refspec = ":old".parse()?;
/// assert_eq!((delete.src, delete.dst.as_str()), (None, "refs/heads/old"));
/// # Ok::<(), smart::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refspec {
    /// The local ref (full or short name) or object id; `None` deletes `dst`.
    pub src: Option<String>,
    /// The remote ref. A short name is completed when pushing: under the
    /// source's namespace (`refs/tags/` for a tag), `refs/heads/` otherwise.
    pub dst: String,
    /// Update even if not a fast-forward.
    pub force: bool,
}

impl FromStr for Refspec {
    type Err = Error;

    fn from_str(spec: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidRefspec {
            spec: spec.to_string(),
            reason,
        };
        let (force, rest) = match spec.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, spec),
        };
        let (src, dst) = match rest.split_once(':') {
            Some(("", dst)) => (None, dst),
            Some((src, "")) => (Some(src), src),
            Some((src, dst)) => (Some(src), dst),
            None => (Some(rest), rest),
        };
        if dst.is_empty() {
            return Err(invalid("no destination"));
        }
        if src.is_none() && force {
            return Err(invalid("a delete cannot be forced"));
        }
        for part in [src.unwrap_or("x"), dst] {
            if part.contains(['*', ' ', '~', '^', '?', '[', '\\'])
                || part.contains("..")
                || part.contains(':')
            {
                return Err(invalid("not a ref name (patterns are not supported)"));
            }
        }
        let dst = if src.is_none() && !dst.starts_with("refs/") {
            format!("refs/heads/{dst}")
        } else {
            dst.to_string()
        };
        Ok(Refspec {
            src: src.map(str::to_string),
            dst,
            force,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_errors() {
        let s = |x: &str| x.parse::<Refspec>();
        assert_eq!(
            s("main").unwrap(),
            Refspec {
                src: Some("main".into()),
                dst: "main".into(),
                force: false
            }
        );
        assert_eq!(s("refs/tags/v1:").unwrap().dst, "refs/tags/v1");
        assert!(s("+:x").is_err());
        assert!(s("a:").is_ok());
        assert!(s("refs/heads/*:refs/heads/*").is_err());
        assert!(s(":").is_err());
        assert!(s("").is_err());
    }
}
