//! Byte deltas: a new version of a part written as copies from the previous version plus
//! the bytes that are new. This is what keeps a store of many revisions small when each
//! revision edits a little of one part (content addressing alone would store every
//! edited part whole again).
//!
//! Format (all integers unsigned LEB128):
//!
//! ```text
//! delta  = target_len op*
//! op     = (len << 1 | 0) byte{len}        insert these bytes
//!        | (len << 1 | 1) offset           copy base[offset .. offset + len]
//! ```
//!
//! The encoder indexes the base by 16-byte blocks at multiples of 16 and scans the target
//! for a matching block, extending each match both ways, so any common run of at least
//! 31 bytes is found. Decoding checks every length and offset: a damaged delta is an
//! error, never a panic or an out-of-bounds read.

use std::collections::HashMap;

const BLOCK: usize = 16;

/// Why a delta could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad delta: {0}")]
pub(crate) struct DeltaError(&'static str);

/// Encodes `target` as a delta against `base`.
pub(crate) fn encode(base: &[u8], target: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    put_varint(&mut out, target.len() as u64);

    let mut index: HashMap<u128, usize> = HashMap::with_capacity(base.len() / BLOCK + 1);
    let mut start = 0;
    while start + BLOCK <= base.len() {
        index.entry(block(&base[start..])).or_insert(start);
        start += BLOCK;
    }

    let mut literal_start = 0; // target bytes from here on are not yet emitted
    let mut at = 0;
    while at + BLOCK <= target.len() {
        let found = index.get(&block(&target[at..])).copied();
        let Some(base_at) = found else {
            at += 1;
            continue;
        };
        // Extend the 16-byte match backwards (into the pending literal) and forwards.
        let (mut base_start, mut target_start) = (base_at, at);
        while base_start > 0
            && target_start > literal_start
            && base[base_start - 1] == target[target_start - 1]
        {
            base_start -= 1;
            target_start -= 1;
        }
        let (mut base_end, mut target_end) = (base_at + BLOCK, at + BLOCK);
        while base_end < base.len() && target_end < target.len() && base[base_end] == target[target_end] {
            base_end += 1;
            target_end += 1;
        }
        put_insert(&mut out, &target[literal_start..target_start]);
        put_varint(&mut out, ((base_end - base_start) as u64) << 1 | 1);
        put_varint(&mut out, base_start as u64);
        literal_start = target_end;
        at = target_end;
    }
    put_insert(&mut out, &target[literal_start..]);
    out
}

/// Applies `delta` to `base`.
pub(crate) fn decode(base: &[u8], delta: &[u8]) -> Result<Vec<u8>, DeltaError> {
    let mut input = delta;
    let target_len = usize::try_from(get_varint(&mut input)?).map_err(|_| DeltaError("length too large"))?;
    // Never trust a length for an allocation beyond what the delta can produce.
    let mut out = Vec::with_capacity(target_len.min(base.len() + delta.len()));
    while !input.is_empty() {
        let head = get_varint(&mut input)?;
        let len = usize::try_from(head >> 1).map_err(|_| DeltaError("length too large"))?;
        if out.len().checked_add(len).is_none_or(|end| end > target_len) {
            return Err(DeltaError("writes past the stated length"));
        }
        if head & 1 == 0 {
            let bytes = input.get(..len).ok_or(DeltaError("insert runs past the end"))?;
            out.extend_from_slice(bytes);
            input = &input[len..];
        } else {
            let offset =
                usize::try_from(get_varint(&mut input)?).map_err(|_| DeltaError("offset too large"))?;
            let end = offset.checked_add(len).ok_or(DeltaError("copy out of range"))?;
            let bytes = base.get(offset..end).ok_or(DeltaError("copy out of range"))?;
            out.extend_from_slice(bytes);
        }
    }
    if out.len() != target_len {
        return Err(DeltaError("shorter than the stated length"));
    }
    Ok(out)
}

fn block(bytes: &[u8]) -> u128 {
    let mut word = [0u8; BLOCK];
    word.copy_from_slice(&bytes[..BLOCK]);
    u128::from_le_bytes(word)
}

fn put_insert(out: &mut Vec<u8>, bytes: &[u8]) {
    if !bytes.is_empty() {
        put_varint(out, (bytes.len() as u64) << 1);
        out.extend_from_slice(bytes);
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn get_varint(input: &mut &[u8]) -> Result<u64, DeltaError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = input.split_first().ok_or(DeltaError("truncated number"))?;
        *input = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(DeltaError("number too long"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_small_edit_costs_a_few_bytes() {
        let base: Vec<u8> = (0..20_000u32)
            .flat_map(|i| format!("line {i} value {}\n", i * 7).into_bytes())
            .collect();
        let mut target = base.clone();
        target.splice(10_000..10_004, b"EDITED".iter().copied());
        let delta = encode(&base, &target);
        assert!(delta.len() < 40, "{} bytes", delta.len());
        assert_eq!(decode(&base, &delta).unwrap(), target);
    }

    #[test]
    fn damaged_deltas_are_errors() {
        let base = b"0123456789abcdef0123456789abcdef".to_vec();
        let target = b"xx0123456789abcdef0123456789abcdefyy".to_vec();
        let delta = encode(&base, &target);
        for cut in 0..delta.len() {
            assert!(decode(&base, &delta[..cut]).is_err(), "cut at {cut}");
        }
        assert!(decode(&base[..10], &delta).is_err());
        assert!(decode(&base, &[0xff; 12]).is_err());
    }

    proptest! {
        #[test]
        fn decode_inverts_encode(base in proptest::collection::vec(0u8..4, 0..300),
                                 edits in proptest::collection::vec((0usize..300, 0usize..20, proptest::collection::vec(any::<u8>(), 0..20)), 0..5)) {
            let mut target = base.clone();
            for (at, remove, insert) in edits {
                let at = at.min(target.len());
                let end = (at + remove).min(target.len());
                target.splice(at..end, insert);
            }
            let delta = encode(&base, &target);
            prop_assert_eq!(decode(&base, &delta).unwrap(), target);
        }

        #[test]
        fn decode_never_panics(base in proptest::collection::vec(any::<u8>(), 0..64),
                               delta in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&base, &delta);
        }
    }
}
