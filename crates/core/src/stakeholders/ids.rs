//! Person id → dense position, for building the graph: every id copied once into one
//! buffer, and an open-addressing table of 16-byte slots holding the id itself when it
//! is short (its first bytes when not) beside its position.
//!
//! It is what a `HashMap<String, u32>` would be, laid out for the 1.1 million lookups
//! of a 100,000-person / 500,000-relation map: a short id is found and compared in its
//! slot — one cache miss per lookup, where a map of `String`s takes three (the slot,
//! the key's allocation, and with a first version of this table the id's end and bytes
//! in the buffer). It is not a general map: ids are only added, and positions are the
//! order of insertion.

use std::hash::{BuildHasher, Hasher};

use crate::fxhash::FxBuild;

/// Bytes of an id kept in its slot: ids this short (`p12345`, `o17`, most CRM keys) are
/// compared in the slot alone; a longer one is settled by its first bytes there and
/// compared in full only when they match.
const INLINE: usize = 11;
/// `Slot::len` of an id longer than [`INLINE`].
const LONG: u8 = u8::MAX;

/// A table slot: 16 bytes, four to a cache line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Slot {
    /// Position + 1; 0: empty.
    at: u32,
    /// The id's length, or [`LONG`].
    len: u8,
    /// The id's first bytes, zero-padded.
    head: [u8; INLINE],
}

impl Slot {
    /// The slot `id` would have at position `at - 1`.
    fn of(id: &[u8], at: u32) -> Slot {
        let mut head = [0u8; INLINE];
        let n = id.len().min(INLINE);
        if let (Some(dst), Some(src)) = (head.get_mut(..n), id.get(..n)) {
            dst.copy_from_slice(src);
        }
        Slot {
            at,
            len: if id.len() <= INLINE { id.len() as u8 } else { LONG },
            head,
        }
    }
}

/// The ids, in insertion order, and the table over them.
#[derive(Debug, Clone, Default)]
pub(super) struct Ids {
    /// Every id, one after another.
    text: Vec<u8>,
    /// End of id `i` in `text` (its start is the previous end).
    ends: Vec<usize>,
    /// Open addressing with linear probes, at most half full.
    slots: Vec<Slot>,
}

fn hash(id: &[u8]) -> u64 {
    let mut h = FxBuild::default().build_hasher();
    h.write(id);
    h.finish()
}

impl Ids {
    /// Room for `n` ids of `bytes` in all without growing.
    pub(super) fn with_capacity(n: usize, bytes: usize) -> Self {
        Ids {
            text: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(n),
            slots: vec![Slot::default(); (n.saturating_mul(2)).max(8).next_power_of_two()],
        }
    }

    fn id(&self, i: usize) -> &[u8] {
        let start = if i == 0 {
            0
        } else {
            self.ends.get(i - 1).copied().unwrap_or(0)
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.text.get(start..end).unwrap_or(&[])
    }

    /// The slot of `id`: where it is, or the empty slot where it would go.
    fn find(&self, id: &[u8], h: u64) -> (usize, Option<usize>) {
        let mask = self.slots.len() - 1;
        let key = Slot::of(id, 0);
        let mut at = (h as usize) & mask;
        loop {
            match self.slots.get(at) {
                None => return (at, None),
                Some(s) if s.at == 0 => return (at, None),
                Some(s) => {
                    if s.len == key.len && s.head == key.head {
                        let i = s.at as usize - 1;
                        if key.len != LONG || self.id(i) == id {
                            return (at, Some(i));
                        }
                    }
                }
            }
            at = (at + 1) & mask;
        }
    }

    /// The position of `id`, if added.
    pub(super) fn get(&self, id: &str) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let id = id.as_bytes();
        self.find(id, hash(id)).1
    }

    /// Adds `id` at the next position and returns it, or `Err` with the position it
    /// already has. The graph caps its size below 2^31, so positions fit the slot.
    pub(super) fn insert(&mut self, id: &str) -> Result<usize, usize> {
        if (self.ends.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let id = id.as_bytes();
        let (at, found) = self.find(id, hash(id));
        if let Some(i) = found {
            return Err(i);
        }
        let i = self.ends.len();
        self.text.extend_from_slice(id);
        self.ends.push(self.text.len());
        if let Some(s) = self.slots.get_mut(at) {
            *s = Slot::of(id, i as u32 + 1);
        }
        Ok(i)
    }

    /// Doubles the table and puts every id back.
    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(8);
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); size]);
        let mask = size - 1;
        for s in old.into_iter().filter(|s| s.at != 0) {
            let mut at = (hash(self.id(s.at as usize - 1)) as usize) & mask;
            while self.slots.get(at).is_some_and(|x| x.at != 0) {
                at = (at + 1) & mask;
            }
            if let Some(x) = self.slots.get_mut(at) {
                *x = s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ids;

    #[test]
    fn insert_get_and_duplicates() {
        // Start small so the table grows several times.
        let mut ids = Ids::with_capacity(0, 0);
        for i in 0..10_000 {
            assert_eq!(ids.insert(&format!("p{i}")), Ok(i));
        }
        assert_eq!(ids.insert("p42"), Err(42));
        assert_eq!(ids.insert(""), Ok(10_000));
        for i in 0..10_000 {
            assert_eq!(ids.get(&format!("p{i}")), Some(i));
        }
        assert_eq!(ids.get(""), Some(10_000));
        assert_eq!(ids.get("p10000"), None);
        assert_eq!(ids.get("p4"), Some(4));
        assert_eq!(Ids::default().get("p0"), None);
        // Long ids, also ones that share their first bytes, and the 11/12-byte edge.
        let mut ids = Ids::with_capacity(4, 64);
        for (i, id) in [
            "mueller.hans@oem.example",
            "mueller.hans@oem.exampl",
            "abcdefghijk",
            "abcdefghijkl",
        ]
        .into_iter()
        .enumerate()
        {
            assert_eq!(ids.insert(id), Ok(i));
        }
        assert_eq!(ids.get("mueller.hans@oem.example"), Some(0));
        assert_eq!(ids.get("mueller.hans@oem.exampl"), Some(1));
        assert_eq!(ids.get("mueller.hans@oem.examplf"), None);
        assert_eq!(ids.get("abcdefghijk"), Some(2));
        assert_eq!(ids.get("abcdefghijkl"), Some(3));
        assert_eq!(ids.get("abcdefghij"), None);
        assert_eq!(ids.insert("abcdefghijkl"), Err(3));
    }
}
