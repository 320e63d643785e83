//! `Vectors`: an entry's embeddings as stored in sled — the screen embedder's vector (which the
//! index is rebuilt from at start) and the verifier's, each tagged with its model id so that a
//! vector from another model is never compared. Little-endian f32, length-prefixed.

/// One entry's embeddings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Vectors {
    pub(crate) screen_model: String,
    pub(crate) screen: Vec<f32>,
    pub(crate) verify: Option<(String, Vec<f32>)>,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&s.as_bytes()[..usize::from(len)]);
}

fn put_vec(out: &mut Vec<u8>, v: &[f32]) {
    out.extend_from_slice(&u32::try_from(v.len()).unwrap_or(u32::MAX).to_be_bytes());
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = tail;
        Some(head)
    }

    fn str(&mut self) -> Option<String> {
        let len = self.take(2)?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }

    fn vec(&mut self) -> Option<Vec<f32>> {
        let n = self.take(4)?;
        let n = u32::from_be_bytes([n[0], n[1], n[2], n[3]]) as usize;
        let bytes = self.take(n.checked_mul(4)?)?;
        Some(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }
}

impl Vectors {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + 4 * (self.screen.len() + self.verify.as_ref().map_or(0, |v| v.1.len())));
        put_str(&mut out, &self.screen_model);
        put_vec(&mut out, &self.screen);
        match &self.verify {
            Some((model, v)) => {
                out.push(1);
                put_str(&mut out, model);
                put_vec(&mut out, v);
            }
            None => out.push(0),
        }
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader(bytes);
        let screen_model = r.str()?;
        let screen = r.vec()?;
        let verify = match r.take(1)? {
            [1] => Some((r.str()?, r.vec()?)),
            _ => None,
        };
        (r.0.is_empty() && screen.iter().all(|x| x.is_finite())).then_some(Self { screen_model, screen, verify })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let v = Vectors { screen_model: "s".into(), screen: vec![0.5, -0.25], verify: Some(("m".into(), vec![1.0])) };
        let bytes = v.encode();
        assert_eq!(Vectors::decode(&bytes), Some(v));
        assert_eq!(Vectors::decode(&bytes[..bytes.len() - 1]), None);
    }
}
