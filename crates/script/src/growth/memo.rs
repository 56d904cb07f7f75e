//! Memoized growth-rule months: a month whose inputs, as far as the rule looked at them,
//! match a month already computed gets that month's factors without running the script.
//!
//! A rule script is a pure function of its `state`: the sandbox has no clock, randomness
//! or I/O, Rhai functions cannot reach global variables, and each month is a separate
//! `on_period` call. So its factors depend only on the state fields it reads, and which
//! field it reads next depends only on the values read so far. While a month runs, the
//! getters record the fields it reads ([`Field`], first read of each); a [`Memo`] is a
//! decision tree over those reads: each node names the field read next, its edges are
//! that field's values, its leaves hold the factors. Looking a month up walks the tree
//! with the month's own values; a miss runs the script and adds its path.
//!
//! A field's "value" is usually exact (the integer, the decimal's exact representation,
//! the name). [`Abstraction`] refines that: when every use of `state.month`, `state.year`
//! or `state.volume_index` anywhere in the script is a comparison with a literal (e.g.
//! `state.volume_index < 1`), the script can only tell values apart by those comparisons,
//! so the key is their outcomes. The analysis is syntactic and conservative: any other use
//! of such a field (arithmetic, a `let`, an interpolation) keys it exactly, and any use
//! of the parameter other than `state.field` (passing it on, aliasing it) turns the
//! refinement off.
//!
//! A month that printed or failed is never stored; a month re-run alone after its batch
//! ran out of budget is not stored either. If adding a month ever contradicts the tree
//! (a different field read at a known node, different factors at a leaf) — impossible
//! for a deterministic script — memoization is switched off for the rule.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use kam_core::rules::GrowthState;
use rhai::{ASTNode, Dynamic, Expr, INT, Token};
use rust_decimal::Decimal;

use crate::host::CompiledScript;

/// A state field a growth rule can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Month,
    Year,
    VolumeIndex,
    /// `state.service_lines` (the script learns how many there are).
    LineCount,
    /// `service_lines[i].service_line`.
    LineName(u32),
    /// `service_lines[i].revenue`.
    LineRevenue(u32),
}

/// A comparison the script makes between a field and a literal.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Comparison {
    op: Cmp,
    literal: Decimal,
    /// Whether the field is the left operand (`state.year >= 2`, not `2 <= state.year`).
    field_left: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparison {
    /// The outcome Rhai's built-in comparison gives (integers compare as decimals exactly).
    fn holds(&self, value: Decimal) -> bool {
        let (a, b) = if self.field_left {
            (value, self.literal)
        } else {
            (self.literal, value)
        };
        match self.op {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }
}

/// For `month`, `year` and `volume_index`: the comparisons that are the script's only
/// uses of the field, or `None` when the field is keyed by its exact value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Abstraction {
    month: Option<Vec<Comparison>>,
    year: Option<Vec<Comparison>>,
    volume_index: Option<Vec<Comparison>>,
}

/// At most this many comparisons per field are folded into one key (a 64-bit mask).
const MAX_COMPARISONS: usize = 64;

impl Abstraction {
    /// Analyses the user's script (without host helpers) whose growth entry point takes
    /// the parameter `param`.
    pub(crate) fn of(script: &CompiledScript, param: &str) -> Abstraction {
        let mut uses = [FieldUses::default(), FieldUses::default(), FieldUses::default()];
        let mut aliased = false;
        script.ast().walk(&mut |path: &[ASTNode<'_>]| {
            let Some((ASTNode::Expr(Expr::Variable(var, ..)), parents)) = path.split_last() else {
                return true;
            };
            if var.1.as_str() != param {
                return true;
            }
            // `param.field`, with `param.field` itself directly inside its parent.
            let field = match parents.split_last() {
                Some((ASTNode::Expr(Expr::Dot(dot, ..)), outer)) if is_variable(&dot.lhs, param) => {
                    match &dot.rhs {
                        Expr::Property(p, ..) => Some((p.2.as_str(), outer.last())),
                        // `param.field.more` or `param.field[i]`: the field is used whole.
                        Expr::Dot(inner, ..) | Expr::Index(inner, ..) => match &inner.lhs {
                            Expr::Property(p, ..) => Some((p.2.as_str(), None)),
                            _ => None,
                        },
                        _ => None,
                    }
                }
                _ => None,
            };
            let Some((name, parent)) = field else {
                aliased = true;
                return false;
            };
            let slot = match name {
                "month" => 0,
                "year" => 1,
                "volume_index" => 2,
                _ => return true,
            };
            let Some(uses) = uses.get_mut(slot) else {
                return true;
            };
            match parent.and_then(|p| comparison_with_literal(p, param, name)) {
                Some(c) => {
                    if !uses.comparisons.contains(&c) {
                        uses.comparisons.push(c);
                    }
                }
                None => uses.exact = true,
            }
            true
        });
        if aliased {
            return Abstraction::default();
        }
        let [month, year, volume_index] = uses.map(FieldUses::into_comparisons);
        Abstraction {
            month,
            year,
            volume_index,
        }
    }

    fn comparisons(&self, field: Field) -> Option<&[Comparison]> {
        match field {
            Field::Month => self.month.as_deref(),
            Field::Year => self.year.as_deref(),
            Field::VolumeIndex => self.volume_index.as_deref(),
            _ => None,
        }
    }

    /// The key of `field` in `state`.
    fn key<'s>(&self, state: &'s GrowthState, field: Field) -> KeyRef<'s> {
        let value = match field {
            Field::Month => Decimal::from(state.month),
            Field::Year => Decimal::from(state.year),
            Field::VolumeIndex => state.volume_index,
            Field::LineCount => return KeyRef::Bits(state.service_lines.len() as u128),
            Field::LineName(i) => {
                return state
                    .service_lines
                    .get(i as usize)
                    .map_or(KeyRef::Absent, |l| KeyRef::Text(&l.service_line));
            }
            Field::LineRevenue(i) => {
                return state
                    .service_lines
                    .get(i as usize)
                    .map_or(KeyRef::Absent, |l| exact(l.revenue));
            }
        };
        match self.comparisons(field) {
            Some(cs) => KeyRef::Bits(
                cs.iter()
                    .enumerate()
                    .fold(0u128, |mask, (bit, c)| mask | (u128::from(c.holds(value)) << bit)),
            ),
            None => exact(value),
        }
    }
}

/// How the script uses one field.
#[derive(Debug, Default)]
struct FieldUses {
    comparisons: Vec<Comparison>,
    exact: bool,
}

impl FieldUses {
    fn into_comparisons(self) -> Option<Vec<Comparison>> {
        (!self.exact && self.comparisons.len() <= MAX_COMPARISONS).then_some(self.comparisons)
    }
}

fn is_variable(e: &Expr, name: &str) -> bool {
    matches!(e, Expr::Variable(v, ..) if v.1.as_str() == name)
}

/// `parent` as a comparison of `param.field` with a literal number, if it is one.
fn comparison_with_literal(parent: &ASTNode<'_>, param: &str, field: &str) -> Option<Comparison> {
    let ASTNode::Expr(Expr::FnCall(call, ..)) = parent else {
        return None;
    };
    let op = match call.op_token.as_ref()? {
        Token::EqualsTo => Cmp::Eq,
        Token::NotEqualsTo => Cmp::Ne,
        Token::LessThan => Cmp::Lt,
        Token::LessThanEqualsTo => Cmp::Le,
        Token::GreaterThan => Cmp::Gt,
        Token::GreaterThanEqualsTo => Cmp::Ge,
        _ => return None,
    };
    let is_field = |e: &Expr| match e {
        Expr::Dot(dot, ..) => {
            is_variable(&dot.lhs, param) && matches!(&dot.rhs, Expr::Property(p, ..) if p.2.as_str() == field)
        }
        _ => false,
    };
    match call.args.as_slice() {
        [l, r] if is_field(l) => Some(Comparison {
            op,
            literal: literal_number(r)?,
            field_left: true,
        }),
        [l, r] if is_field(r) => Some(Comparison {
            op,
            literal: literal_number(l)?,
            field_left: false,
        }),
        _ => None,
    }
}

fn literal_number(e: &Expr) -> Option<Decimal> {
    match e {
        Expr::IntegerConstant(i, ..) => Some(Decimal::from(*i)),
        Expr::DynamicConstant(d, ..) => number(d),
        _ => None,
    }
}

fn number(d: &Dynamic) -> Option<Decimal> {
    if let Some(i) = d.clone().try_cast::<INT>() {
        return Some(Decimal::from(i));
    }
    d.clone().try_cast::<Decimal>()
}

fn exact(d: Decimal) -> KeyRef<'static> {
    // The representation, not the number: 1.0 and 1.00 print differently.
    KeyRef::Bits(u128::from_le_bytes(d.serialize()))
}

/// A field's key in a state being looked up (borrowed: no allocation per lookup).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyRef<'s> {
    Bits(u128),
    Text(&'s str),
    /// The field does not exist in this state (e.g. a line index past the end).
    Absent,
}

/// A stored key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Bits(u128),
    Text(Box<str>),
    Absent,
}

impl Key {
    fn matches(&self, k: KeyRef<'_>) -> bool {
        match (self, k) {
            (Key::Bits(a), KeyRef::Bits(b)) => *a == b,
            (Key::Text(a), KeyRef::Text(b)) => &**a == b,
            (Key::Absent, KeyRef::Absent) => true,
            _ => false,
        }
    }
}

impl From<KeyRef<'_>> for Key {
    fn from(k: KeyRef<'_>) -> Self {
        match k {
            KeyRef::Bits(b) => Key::Bits(b),
            KeyRef::Text(t) => Key::Text(t.into()),
            KeyRef::Absent => Key::Absent,
        }
    }
}

#[derive(Debug)]
enum Node {
    Read { field: Field, edges: Vec<(Key, u32)> },
    Leaf { start: u32, end: u32 },
}

/// Bounds on one tree: a rule whose reads rarely repeat (say, it reads each month's exact
/// revenue) stops growing the tree instead of filling memory, and a lookup scans at most
/// `MAX_EDGES` keys per read.
const MAX_NODES: usize = 1 << 16;
const MAX_EDGES: usize = 32;

/// The tree is inconsistent with a new month: the script is not the pure function it
/// should be (or the analysis is wrong). The caller switches memoization off.
#[derive(Debug)]
pub(crate) struct Inconsistent;

/// Where a leaf's factors are in [`Memo`]'s store.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LeafRange(u32, u32);

/// One decision tree of months already computed (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Memo {
    nodes: Vec<Node>,
    factors: Vec<Decimal>,
    /// Months answered from the tree, and months the script ran for.
    pub(crate) stats: MemoStats,
}

/// How often a growth rule's months were answered from its memo.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoStats {
    /// Months whose factors came from the memo.
    pub reused: u64,
    /// Months the script ran for (memo misses, and every month when memoization is off).
    pub run: u64,
}

impl Memo {
    /// Where the factors of a month with `state`'s values are stored, if they are. The
    /// range stays valid while the tree grows.
    pub(crate) fn lookup(&self, abstraction: &Abstraction, state: &GrowthState) -> Option<LeafRange> {
        let mut node = self.nodes.first()?;
        loop {
            match node {
                Node::Read { field, edges } => {
                    let key = abstraction.key(state, *field);
                    let (_, child) = edges.iter().find(|(k, _)| k.matches(key))?;
                    node = self.nodes.get(*child as usize)?;
                }
                Node::Leaf { start, end } => return Some(LeafRange(*start, *end)),
            }
        }
    }

    /// The factors stored at `range`.
    pub(crate) fn factors(&self, range: LeafRange) -> &[Decimal] {
        self.factors
            .get(range.0 as usize..range.1 as usize)
            .unwrap_or(&[])
    }

    /// Stores the month `state` that read `reads` (first reads, in order) and returned
    /// `factors`. Does nothing when the tree is full.
    pub(crate) fn insert(
        &mut self,
        abstraction: &Abstraction,
        state: &GrowthState,
        reads: &[Field],
        factors: &[Decimal],
    ) -> Result<(), Inconsistent> {
        if self.nodes.is_empty() {
            return self.add_chain(abstraction, state, reads, factors).map(|_| ());
        }
        let mut at = 0usize;
        let mut rest = reads;
        loop {
            let (key, found, full) = match self.nodes.get(at) {
                Some(Node::Read { field, edges }) => {
                    let (first, tail) = rest.split_first().ok_or(Inconsistent)?;
                    if first != field {
                        return Err(Inconsistent);
                    }
                    rest = tail;
                    let key = abstraction.key(state, *field);
                    let found = edges.iter().find(|(k, _)| k.matches(key)).map(|(_, c)| *c);
                    (key, found, edges.len() >= MAX_EDGES)
                }
                Some(Node::Leaf { start, end }) => {
                    let same = self.factors.get(*start as usize..*end as usize) == Some(factors);
                    return if rest.is_empty() && same {
                        Ok(())
                    } else {
                        Err(Inconsistent)
                    };
                }
                None => return Err(Inconsistent),
            };
            match found {
                Some(child) => at = child as usize,
                None if full => return Ok(()),
                None => {
                    let key = Key::from(key);
                    if let Some(child) = self.add_chain(abstraction, state, rest, factors)?
                        && let Some(Node::Read { edges, .. }) = self.nodes.get_mut(at)
                    {
                        edges.push((key, child));
                    }
                    return Ok(());
                }
            }
        }
    }

    /// Adds the nodes for `reads` ending in a leaf with `factors`; returns the first
    /// node's index, or `None` (nothing added) when the tree would grow past its bound.
    fn add_chain(
        &mut self,
        abstraction: &Abstraction,
        state: &GrowthState,
        reads: &[Field],
        factors: &[Decimal],
    ) -> Result<Option<u32>, Inconsistent> {
        if self.nodes.len() + reads.len() + 1 > MAX_NODES {
            return Ok(None);
        }
        let first = self.nodes.len();
        let index = |n: usize| u32::try_from(n).map_err(|_| Inconsistent);
        for (i, field) in reads.iter().enumerate() {
            let child = index(first + i + 1)?;
            self.nodes.push(Node::Read {
                field: *field,
                edges: vec![(Key::from(abstraction.key(state, *field)), child)],
            });
        }
        let start = index(self.factors.len())?;
        self.factors.extend_from_slice(factors);
        let end = index(self.factors.len())?;
        self.nodes.push(Node::Leaf { start, end });
        index(first).map(Some)
    }
}

/// The trees of one rule, one per concurrent caller (a simulation thread takes one for a
/// path and gives it back), so lookups take no lock.
#[derive(Debug, Default)]
pub(crate) struct MemoPool {
    free: Mutex<Vec<Memo>>,
    off: AtomicBool,
}

impl MemoPool {
    /// A tree to use, or `None` when memoization is off.
    pub(crate) fn take(&self) -> Option<Memo> {
        if self.off.load(Ordering::Relaxed) {
            return None;
        }
        let pooled = self.free.lock().ok().and_then(|mut free| free.pop());
        Some(pooled.unwrap_or_default())
    }

    /// Returns a tree taken with [`MemoPool::take`].
    pub(crate) fn give(&self, memo: Memo) {
        if self.off.load(Ordering::Relaxed) {
            return;
        }
        if let Ok(mut free) = self.free.lock() {
            free.push(memo);
        }
    }

    /// The stats of every tree in the pool (calls still running are not counted).
    pub(crate) fn stats(&self) -> MemoStats {
        let free = self.free.lock();
        free.map(|free| {
            free.iter().fold(MemoStats::default(), |a, m| MemoStats {
                reused: a.reused + m.stats.reused,
                run: a.run + m.stats.run,
            })
        })
        .unwrap_or_default()
    }

    /// Switches memoization off for good and drops the stored trees.
    pub(crate) fn switch_off(&self) {
        self.off.store(true, Ordering::Relaxed);
        if let Ok(mut free) = self.free.lock() {
            free.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use kam_core::rules::ServiceLineRevenue;

    use super::*;
    use crate::ScriptHost;

    fn analyse(body: &str) -> Abstraction {
        let host = ScriptHost::default();
        let script = host.compile("t.rhai", body).unwrap();
        Abstraction::of(&script, "state")
    }

    fn lt(literal: i64) -> Comparison {
        Comparison {
            op: Cmp::Lt,
            literal: Decimal::from(literal),
            field_left: true,
        }
    }

    #[test]
    fn comparisons_with_literals_are_folded() {
        let a = analyse(
            "fn on_period(state) { if state.year >= 2 && state.volume_index < 1 && 1.5 > state.volume_index { [1] } else { [2] } }",
        );
        assert_eq!(
            a.year,
            Some(vec![Comparison {
                op: Cmp::Ge,
                literal: Decimal::TWO,
                field_left: true
            }])
        );
        assert_eq!(
            a.volume_index,
            Some(vec![
                lt(1),
                Comparison {
                    op: Cmp::Gt,
                    literal: Decimal::new(15, 1),
                    field_left: false
                }
            ])
        );
        // Never read: no comparisons, so any value gives the same key.
        assert_eq!(a.month, Some(vec![]));
    }

    #[test]
    fn any_other_use_keys_the_field_exactly() {
        for body in [
            "fn on_period(state) { [state.volume_index * 2] }",
            "fn on_period(state) { let v = state.volume_index; [if v < 1 { 1 } else { 2 }] }",
            "fn on_period(state) { [if `${state.volume_index}` == \"1.00\" { 1 } else { 2 }] }",
            "fn on_period(state) { [if state.volume_index < state.year { 1 } else { 2 }] }",
            "fn on_period(state) { switch state.volume_index { 1 => [1], _ => [2] } }",
            "fn on_period(state) { [if state.volume_index < 1 { 1 } else { state.volume_index }] }",
        ] {
            assert_eq!(analyse(body).volume_index, None, "{body}");
        }
    }

    #[test]
    fn passing_the_state_on_turns_the_refinement_off() {
        for body in [
            "fn up(s) { s.volume_index * 2 }\nfn on_period(state) { if state.volume_index < 1 { [up(state)] } else { [1] } }",
            "fn on_period(state) { let s = state; if state.volume_index < 1 { [s.volume_index] } else { [1] } }",
            "fn on_period(state) { let f = |x| state.volume_index * x; if state.volume_index < 1 { [f.call(2)] } else { [1] } }",
            "fn on_period(state) { if state.volume_index < 1 { [state.volume_index()] } else { [1] } }",
        ] {
            assert_eq!(analyse(body), Abstraction::default(), "{body}");
        }
    }

    fn state(month: u32, volume_index: Decimal) -> GrowthState {
        GrowthState {
            month,
            year: month / 12 + 1,
            volume_index,
            service_lines: vec![ServiceLineRevenue {
                service_line: "warehousing".into(),
                revenue: Decimal::ONE_HUNDRED,
            }],
        }
    }

    #[test]
    fn the_tree_answers_only_months_with_the_same_keys() {
        let a = analyse("fn on_period(state) { if state.volume_index < 1 { [2] } else { [1] } }");
        let mut memo = Memo::default();
        let below = state(0, Decimal::new(95, 2));
        assert!(memo.lookup(&a, &below).is_none());
        memo.insert(&a, &below, &[Field::VolumeIndex], &[Decimal::TWO])
            .unwrap();
        let hit = memo.lookup(&a, &state(7, Decimal::new(5, 1))).unwrap();
        assert_eq!(memo.factors(hit), [Decimal::TWO]);
        assert!(memo.lookup(&a, &state(7, Decimal::ONE)).is_none());

        // Keyed exactly, 0.95 and 0.950 are different months (a script could print them).
        let exact = Abstraction::default();
        let mut memo = Memo::default();
        memo.insert(&exact, &below, &[Field::VolumeIndex], &[Decimal::TWO])
            .unwrap();
        assert!(memo.lookup(&exact, &state(3, Decimal::new(95, 2))).is_some());
        assert!(memo.lookup(&exact, &state(3, Decimal::new(950, 3))).is_none());
    }

    #[test]
    fn a_contradiction_is_reported() {
        let a = Abstraction::default();
        let mut memo = Memo::default();
        let s = state(0, Decimal::ONE);
        memo.insert(&a, &s, &[Field::Year], &[Decimal::ONE]).unwrap();
        // Same year, but now a different field is read next, or other factors result.
        assert!(
            memo.insert(&a, &s, &[Field::Year, Field::Month], &[Decimal::ONE])
                .is_err()
        );
        assert!(memo.insert(&a, &s, &[Field::Month], &[Decimal::ONE]).is_err());
        assert!(memo.insert(&a, &s, &[Field::Year], &[Decimal::TWO]).is_err());
        assert!(memo.insert(&a, &s, &[Field::Year], &[Decimal::ONE]).is_ok());
    }

    #[test]
    fn the_tree_stops_growing_at_its_bound() {
        let a = Abstraction::default();
        let mut memo = Memo::default();
        for m in 0..(MAX_EDGES as u32 + 10) {
            memo.insert(&a, &state(m, Decimal::ONE), &[Field::Month], &[Decimal::ONE])
                .unwrap();
        }
        assert_eq!(memo.nodes.len(), 1 + MAX_EDGES);
        assert!(
            memo.lookup(&a, &state(MAX_EDGES as u32 + 5, Decimal::ONE))
                .is_none()
        );
    }
}
