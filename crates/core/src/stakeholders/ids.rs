//! Person id → dense position, for building the graph: every id copied once into one
//! buffer, and an open-addressing table of 8-byte slots (a 32-bit hash tag beside the
//! position) that points into it.
//!
//! It is what a `HashMap<String, u32>` would be, laid out for the 1.1 million lookups
//! of a 100,000-person / 500,000-relation map: a slot holds no pointer, a tag mismatch
//! is settled without touching the id, and the ids sit side by side (600 KB for
//! 100,000 of them) instead of in 100,000 allocations — one cache miss per lookup
//! instead of three. It is not a general map: ids are only added, and positions are
//! the order of insertion.

use std::hash::{BuildHasher, Hasher};

use crate::fxhash::FxBuild;

/// The ids, in insertion order, and the table over them.
#[derive(Debug, Clone, Default)]
pub(super) struct Ids {
    /// Every id, one after another.
    text: String,
    /// End of id `i` in `text` (its start is the previous end).
    ends: Vec<usize>,
    /// 0: empty; else the hash's high 32 bits, then position + 1.
    slots: Vec<u64>,
}

fn hash(id: &str) -> u64 {
    let mut h = FxBuild::default().build_hasher();
    h.write(id.as_bytes());
    h.finish()
}

impl Ids {
    /// Room for `n` ids without growing the table.
    pub(super) fn with_capacity(n: usize, bytes: usize) -> Self {
        Ids {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(n),
            // At most half full: linear probes stay short.
            slots: vec![0; (n.saturating_mul(2)).max(8).next_power_of_two()],
        }
    }

    fn id(&self, i: usize) -> &str {
        let start = if i == 0 {
            0
        } else {
            self.ends.get(i - 1).copied().unwrap_or(0)
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.text.get(start..end).unwrap_or("")
    }

    /// The slot of `id`: where it is, or the empty slot where it would go.
    fn find(&self, id: &str, h: u64) -> (usize, Option<usize>) {
        let mask = self.slots.len() - 1;
        let tag = h >> 32;
        let mut at = (h as usize) & mask;
        loop {
            match self.slots.get(at).copied().unwrap_or(0) {
                0 => return (at, None),
                s if s >> 32 == tag => {
                    let i = (s & 0xffff_ffff) as usize - 1;
                    if self.id(i) == id {
                        return (at, Some(i));
                    }
                }
                _ => {}
            }
            at = (at + 1) & mask;
        }
    }

    /// The position of `id`, if added.
    pub(super) fn get(&self, id: &str) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        self.find(id, hash(id)).1
    }

    /// Adds `id` at the next position and returns it, or `Err` with the position it
    /// already has. Positions beyond `u32::MAX - 1` are refused by the caller (the
    /// graph caps its size below 2^31).
    pub(super) fn insert(&mut self, id: &str) -> Result<usize, usize> {
        if (self.ends.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let h = hash(id);
        let (at, found) = self.find(id, h);
        if let Some(i) = found {
            return Err(i);
        }
        let i = self.ends.len();
        self.text.push_str(id);
        self.ends.push(self.text.len());
        if let Some(s) = self.slots.get_mut(at) {
            *s = (h >> 32) << 32 | (i as u64 + 1);
        }
        Ok(i)
    }

    /// Doubles the table and puts every id back.
    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(8);
        let old = std::mem::replace(&mut self.slots, vec![0; size]);
        let mask = size - 1;
        for s in old.into_iter().filter(|s| *s != 0) {
            let i = (s & 0xffff_ffff) as usize - 1;
            let mut at = (hash(self.id(i)) as usize) & mask;
            while self.slots.get(at).is_some_and(|x| *x != 0) {
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
    }
}
