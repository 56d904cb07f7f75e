//! Monte Carlo of a project's finish: each task's duration drawn from its PERT (beta)
//! distribution, the finish the longest chain of drawn durations.
//!
//! The network (tasks, dependencies, validation, the PERT means) is
//! [`kam_core::delivery::Network`]; this module only draws. Path `i` draws from ChaCha8
//! stream `i` of the seed, one duration per task in project order (the same
//! [`ValueDistribution::Pert`] beta as deal values: `α = 1 + 4(m − o)/(p − o)`,
//! `β = 1 + 4(p − m)/(p − o)`, so its mean is the PERT mean `(o + 4m + p)/6`; drawn as a
//! ratio of two gammas, about twice as fast as the deal sampler's algorithm), then
//! runs the forward pass in `f64`. Paths run on rayon in chunks and land by path index,
//! so the result is identical for any thread count. Each finish becomes a `Decimal` of
//! [`crate::dist::F64_SIGNIFICANT_DIGITS`] significant digits, and
//! [`EmpiricalDistribution`] answers the mean (exact over those values), `P(X ≥ x)` and
//! inverse-CDF quantiles.
//!
//! Because the finish is the maximum over chains, its mean is at least the critical
//! path's PERT mean (E[max] ≥ max E): the normal approximation of
//! [`Network::prob_within`](kam_core::delivery::Network::prob_within) is optimistic when
//! other chains are nearly critical, which is what the simulation shows.
//!
//! It is **not** a scheduler: no resources, calendars or correlation between tasks.
//!
//! ```
//! use kam_core::delivery::{Project, Task};
//! use kam_sim::delivery::simulate_finish;
//! use rust_decimal::Decimal;
//!
//! let d = Decimal::from;
//! let mut p = Project::new("wms");
//! p.tasks.push(Task::new("design", d(2), d(3), d(6)));
//! p.tasks.push(Task::new("build", d(4), d(6), d(12)).after(["design"]));
//! let finish = simulate_finish(&p.network()?, 20_000, 7, None, &kam_sim::Stop::never())?;
//! assert!((finish.mean()? - d(10)).abs() < Decimal::new(5, 2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use kam_core::delivery::Network;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::dist::{PertGamma, ValueDistribution, from_f64};
use crate::pipeline::EmpiricalDistribution;
use crate::stop::POLL_EVERY;
use crate::{ModelError, SimError, Stop};

/// Paths per work item.
const CHUNK: usize = 1024;

/// [`crate::scenario::WEEKS_PER_MONTH`] as `f64` (365.2425 / 12 / 7, exact in both).
const WPM: f64 = 4.348125;

/// The network flattened for the draws: samplers in project order, then the tasks in
/// topological order with their predecessors in one array.
struct Plan {
    samplers: Vec<PertGamma>,
    order: Vec<u32>,
    pred_end: Vec<u32>,
    preds: Vec<u32>,
}

impl Plan {
    fn new(network: &Network) -> Result<Self, SimError> {
        let mut samplers = Vec::with_capacity(network.len());
        for (i, t) in network.tasks().iter().enumerate() {
            let d = ValueDistribution::Pert {
                min: t.optimistic,
                mode: t.most_likely,
                max: t.pessimistic,
            };
            d.validate(&format!("tasks[{i}]"))?;
            samplers.push(PertGamma::new(t.optimistic, t.most_likely, t.pessimistic)?);
        }
        let too_many = || {
            SimError::Model(ModelError::Invalid {
                field: "tasks".into(),
                message: "too many tasks or dependencies".into(),
            })
        };
        let mut order = Vec::with_capacity(network.len());
        let mut pred_end = Vec::with_capacity(network.len());
        let mut preds = Vec::new();
        for &i in network.topological_order() {
            order.push(u32::try_from(i).map_err(|_| too_many())?);
            for &p in network.predecessors(i) {
                preds.push(u32::try_from(p).map_err(|_| too_many())?);
            }
            pred_end.push(u32::try_from(preds.len()).map_err(|_| too_many())?);
        }
        Ok(Plan {
            samplers,
            order,
            pred_end,
            preds,
        })
    }

    /// One path's finish; `dur` and `finish` are scratch of one entry per task.
    fn finish(&self, proto: &ChaCha8Rng, path: u64, dur: &mut [f64], finish: &mut [f64]) -> f64 {
        let mut rng = proto.clone();
        rng.set_stream(path);
        for (d, s) in dur.iter_mut().zip(&self.samplers) {
            *d = s.sample(&mut rng);
        }
        self.forward(dur, finish)
    }

    /// The forward pass over drawn durations: each task's finish into `finish`, and the
    /// project's end.
    fn forward(&self, dur: &[f64], finish: &mut [f64]) -> f64 {
        let mut end = 0.0f64;
        let mut start_at = 0usize;
        for (&task, &stop) in self.order.iter().zip(&self.pred_end) {
            let stop = stop as usize;
            let mut start = 0.0f64;
            for &p in self.preds.get(start_at..stop).unwrap_or(&[]) {
                start = start.max(finish.get(p as usize).copied().unwrap_or(0.0));
            }
            start_at = stop;
            let f = start + dur.get(task as usize).copied().unwrap_or(0.0);
            if let Some(x) = finish.get_mut(task as usize) {
                *x = f;
            }
            end = end.max(f);
        }
        end
    }
}

/// The go-lives of a scenario's projects, compiled for the growth engine: one
/// [`Plan`] per project, the shared tasks drawn once per path into a pool.
pub(crate) struct GoLives {
    /// Shared task samplers, by first appearance.
    pool: Vec<PertGamma>,
    projects: Vec<ProjectC>,
    /// The widest project, for scratch.
    max_tasks: usize,
}

struct ProjectC {
    plan: Plan,
    /// Per task: `Some(pool index)` for a shared task.
    shared: Vec<Option<usize>>,
    go_live: usize,
    start_month: f64,
}

/// Per-worker scratch of [`GoLives::draw`].
pub(crate) struct GoLiveScratch {
    pool: Vec<f64>,
    dur: Vec<f64>,
    finish: Vec<f64>,
}

impl GoLives {
    /// Compiles the scenario's (validated) projects.
    pub(crate) fn new(projects: &[crate::scenario::SimProject]) -> Result<Self, SimError> {
        let mut pool = Vec::new();
        let mut pool_ids: Vec<&str> = Vec::new();
        let mut out = Vec::with_capacity(projects.len());
        let mut max_tasks = 0;
        for p in projects {
            let project = kam_core::delivery::Project {
                id: p.name.clone(),
                tasks: p.tasks.clone(),
            };
            let network = project
                .network()
                .map_err(|e| SimError::Options(format!("project {:?}: {e}", p.name)))?;
            let plan = Plan::new(&network)?;
            let mut shared = Vec::with_capacity(p.tasks.len());
            for t in &p.tasks {
                if p.shared.contains(&t.id) {
                    let k = match pool_ids.iter().position(|id| *id == t.id) {
                        Some(k) => k,
                        None => {
                            pool_ids.push(&t.id);
                            pool.push(PertGamma::new(t.optimistic, t.most_likely, t.pessimistic)?);
                            pool.len() - 1
                        }
                    };
                    shared.push(Some(k));
                } else {
                    shared.push(None);
                }
            }
            let go_live = network.position(&p.go_live).ok_or_else(|| {
                SimError::Options(format!("project {:?}: no go-live task {:?}", p.name, p.go_live))
            })?;
            max_tasks = max_tasks.max(network.len());
            out.push(ProjectC {
                plan,
                shared,
                go_live,
                // Start months in weeks, so the draw adds weeks and divides once.
                start_month: p.start_month.to_f64().unwrap_or(0.0) * WPM,
            });
        }
        Ok(GoLives {
            pool,
            projects: out,
            max_tasks,
        })
    }

    /// Number of projects.
    pub(crate) fn len(&self) -> usize {
        self.projects.len()
    }

    pub(crate) fn scratch(&self) -> GoLiveScratch {
        GoLiveScratch {
            pool: vec![0.0; self.pool.len()],
            dur: vec![0.0; self.max_tasks],
            finish: vec![0.0; self.max_tasks],
        }
    }

    /// One path's go-live months (the first whole month after each project's go-live,
    /// at least 0) into `months`, drawn from `rng`: the shared tasks first, then each
    /// project's own tasks in project and task order.
    pub(crate) fn draw<R: rand::Rng + ?Sized>(
        &self,
        rng: &mut R,
        sc: &mut GoLiveScratch,
        months: &mut [u32],
    ) {
        for (v, s) in sc.pool.iter_mut().zip(&self.pool) {
            *v = s.sample(rng);
        }
        for (p, out) in self.projects.iter().zip(months.iter_mut()) {
            let n = p.shared.len();
            let (dur, finish) = (&mut sc.dur[..n], &mut sc.finish[..n]);
            for ((d, s), shared) in dur.iter_mut().zip(&p.plan.samplers).zip(&p.shared) {
                *d = match shared {
                    Some(k) => sc.pool.get(*k).copied().unwrap_or(0.0),
                    None => s.sample(rng),
                };
            }
            p.plan.forward(dur, finish);
            let weeks = p.start_month + finish.get(p.go_live).copied().unwrap_or(0.0);
            let month = (weeks / WPM).ceil();
            *out = if month <= 0.0 {
                0
            } else if month >= f64::from(u32::MAX) {
                u32::MAX
            } else {
                month as u32
            };
        }
    }
}

/// Simulates `paths` finishes of `network` from `seed` on `threads` worker threads
/// (`None`: one per core). The result does not depend on the thread count.
///
/// # Errors
/// Zero paths or threads; more paths than memory can be reserved for (checked before
/// anything is drawn); a PERT shape the sampler refuses.
pub fn simulate_finish(
    network: &Network,
    paths: u64,
    seed: u64,
    threads: Option<usize>,
    stop: &Stop,
) -> Result<EmpiricalDistribution, SimError> {
    simulate_finishes(network, paths, seed, threads, stop)?.into_distribution()
}

/// Simulated finishes, sorted, still as drawn (`f64` weeks): what a caller that wants a
/// few quantiles and one probability needs, without converting every path to a
/// `Decimal` (most of the cost of a 10,000-path simulation). Each figure it gives is the
/// one [`EmpiricalDistribution`] would give for the same paths.
#[derive(Debug, Clone)]
pub struct Finishes {
    /// Ascending (`f64::total_cmp`); never empty.
    sorted: Vec<f64>,
}

impl Finishes {
    /// Number of paths.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Never empty (at least one path is simulated); for clippy's `len` convention.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// [`EmpiricalDistribution::quantile`] of the same paths.
    ///
    /// # Errors
    /// `q` outside 0..=1.
    pub fn quantile(&self, q: Decimal) -> Result<Decimal, SimError> {
        let idx = crate::pipeline::quantile_index(q, self.sorted.len())?;
        let v = self
            .sorted
            .get(idx)
            .copied()
            .ok_or_else(|| SimError::Numeric("quantile index".into()))?;
        from_f64(v, "project finish")
    }

    /// How many paths finish by `x` (their decimal value ≤ `x`): a binary search that
    /// converts a dozen values, the count [`EmpiricalDistribution::values`] gives
    /// (the conversion is monotone).
    ///
    /// # Errors
    /// A finish with no decimal value (not finite).
    pub fn count_at_most(&self, x: Decimal) -> Result<usize, SimError> {
        let (mut lo, mut hi) = (0usize, self.sorted.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let v = self.sorted.get(mid).copied().unwrap_or(f64::INFINITY);
            if from_f64(v, "project finish")? <= x {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// Every path as a `Decimal`.
    ///
    /// # Errors
    /// A finish with no decimal value; a sum that overflows.
    pub fn into_distribution(self) -> Result<EmpiricalDistribution, SimError> {
        let values = self
            .sorted
            .par_iter()
            .with_min_len(CHUNK)
            .map(|f| from_f64(*f, "project finish"))
            .collect::<Result<Vec<_>, _>>()?;
        // In order already (the conversion is monotone): the sort only confirms one run.
        EmpiricalDistribution::new(values)
    }
}

/// [`simulate_finish`] without the conversion: the sorted finishes.
///
/// # Errors
/// As [`simulate_finish`].
pub fn simulate_finishes(
    network: &Network,
    paths: u64,
    seed: u64,
    threads: Option<usize>,
    stop: &Stop,
) -> Result<Finishes, SimError> {
    if paths == 0 {
        return Err(SimError::Options("paths must be at least 1".into()));
    }
    if threads == Some(0) {
        return Err(SimError::Options("threads must be at least 1".into()));
    }
    let n = usize::try_from(paths)
        .map_err(|_| SimError::Options(format!("{paths} paths do not fit in memory")))?;
    let mut finishes: Vec<f64> = Vec::new();
    finishes
        .try_reserve_exact(n)
        .map_err(|_| SimError::Options(format!("{paths} paths do not fit in memory")))?;
    finishes.resize(n, 0.0);
    let plan = Plan::new(network)?;
    let proto = ChaCha8Rng::seed_from_u64(seed);
    let tasks = network.len();

    let draw = |(ci, chunk): (usize, &mut [f64])| {
        let mut dur = vec![0.0f64; tasks];
        let mut finish = vec![0.0f64; tasks];
        let first = (ci * CHUNK) as u64;
        for (k, slot) in chunk.iter_mut().enumerate() {
            if stop.is_armed()
                && (k as u64).is_multiple_of(POLL_EVERY)
                && let Some(reason) = stop.reason()
            {
                return Err(SimError::Stopped {
                    reason,
                    done: first + k as u64,
                    total: paths,
                });
            }
            *slot = plan.finish(&proto, first + k as u64, &mut dur, &mut finish);
        }
        Ok(())
    };
    let run = |finishes: &mut Vec<f64>| -> Result<(), SimError> {
        finishes.par_chunks_mut(CHUNK).enumerate().try_for_each(draw)?;
        finishes.par_sort_unstable_by(f64::total_cmp);
        Ok(())
    };
    // The global pool unless a thread count is asked for: building a pool per call
    // spawns threads each time, which dominated short simulations (kam check's).
    match threads {
        None => run(&mut finishes)?,
        Some(t) => rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map_err(|e| SimError::Options(format!("thread pool: {e}")))?
            .install(|| run(&mut finishes))?,
    }
    Ok(Finishes { sorted: finishes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kam_core::delivery::{Project, Task};
    use rust_decimal::prelude::ToPrimitive;
    use rust_decimal_macros::dec;

    fn t(id: &str, o: i64, m: i64, p: i64, after: &[&str]) -> Task {
        Task::new(id, Decimal::from(o), Decimal::from(m), Decimal::from(p)).after(after.iter().copied())
    }

    /// The Milwaukee Paper network (Heizer & Render), as in kam-core's tests.
    fn milwaukee() -> Network {
        let mut p = Project::new("milwaukee");
        p.tasks = vec![
            t("A", 1, 2, 3, &[]),
            t("B", 2, 3, 4, &[]),
            t("C", 1, 2, 3, &["A"]),
            t("D", 2, 4, 6, &["A", "B"]),
            t("E", 1, 4, 7, &["C"]),
            t("F", 1, 2, 9, &["C"]),
            t("G", 3, 4, 11, &["D", "E"]),
            t("H", 1, 2, 3, &["F", "G"]),
        ];
        p.network().unwrap()
    }

    #[test]
    fn same_result_for_one_and_two_threads() {
        let net = milwaukee();
        let one = simulate_finish(&net, 5_000, 42, Some(1), &Stop::never()).unwrap();
        let two = simulate_finish(&net, 5_000, 42, Some(2), &Stop::never()).unwrap();
        assert_eq!(one, two);
        let other_seed = simulate_finish(&net, 5_000, 43, Some(2), &Stop::never()).unwrap();
        assert_ne!(one, other_seed);
    }

    /// The sorted finishes give exactly the distribution's quantiles and counts, for any
    /// q and threshold (the check and `kam delivery` use the former, scripts the latter).
    #[test]
    fn finishes_agree_with_the_distribution_of_the_same_paths() {
        let net = milwaukee();
        let f = simulate_finishes(&net, 3_001, 5, Some(2), &Stop::never()).unwrap();
        let d = simulate_finish(&net, 3_001, 5, Some(1), &Stop::never()).unwrap();
        assert_eq!(f.clone().into_distribution().unwrap(), d);
        for k in 0..=100 {
            let q = Decimal::new(k, 2);
            assert_eq!(f.quantile(q).unwrap(), d.quantile(q).unwrap(), "q {q}");
        }
        let values = d.values();
        for x in [dec!(0), dec!(8), dec!(12.5), dec!(14), dec!(16.25), dec!(30)]
            .into_iter()
            .chain(values.iter().step_by(97).copied())
        {
            assert_eq!(
                f.count_at_most(x).unwrap(),
                values.partition_point(|v| *v <= x),
                "x {x}"
            );
        }
        assert!(f.quantile(dec!(1.1)).is_err());
    }

    #[test]
    fn fixed_durations_give_the_critical_path_every_time() {
        let mut p = Project::new("fixed");
        p.tasks = vec![
            t("a", 2, 2, 2, &[]),
            t("b", 3, 3, 3, &["a"]),
            t("c", 4, 4, 4, &[]),
        ];
        let r = simulate_finish(&p.network().unwrap(), 100, 1, None, &Stop::never()).unwrap();
        assert_eq!(r.values().first(), Some(&dec!(5)));
        assert_eq!(r.values().last(), Some(&dec!(5)));
    }

    #[test]
    fn one_task_follows_its_pert_distribution() {
        let mut p = Project::new("one");
        p.tasks = vec![t("a", 2, 3, 10, &[])];
        let r = simulate_finish(&p.network().unwrap(), 100_000, 9, None, &Stop::never()).unwrap();
        // PERT mean (2 + 12 + 10)/6 = 4; sd of a PERT beta here ≈ 1.3, so the mean of
        // 100,000 draws is within 5 × 1.3/√100000 ≈ 0.02.
        assert!((r.mean().unwrap() - dec!(4)).abs() < dec!(0.02));
        // The gamma-ratio draws follow the same beta as the deal sampler: sample
        // quantiles within 0.05 of the exact ones (their standard errors here are
        // about 0.01).
        let dist = ValueDistribution::pert(dec!(2), dec!(3), dec!(10)).unwrap();
        for q in [dec!(0.1), dec!(0.5), dec!(0.9), dec!(0.99)] {
            let exact = dist.quantile(q).unwrap();
            assert!((r.quantile(q).unwrap() - exact).abs() < dec!(0.05), "q {q}");
        }
        assert!(r.values().first().unwrap() >= &dec!(2));
        assert!(r.values().last().unwrap() <= &dec!(10));
    }

    /// E[max] ≥ max E, structurally: on every path the finish is at least the sum of
    /// the critical path's drawn durations, whose sample mean is the PERT mean T up to
    /// noise of sd σ/√n (σ = the critical path's sd, the durations being independent).
    /// So the sample mean is below T − 5σ/√n with probability under 3e-7.
    #[test]
    fn mean_is_never_below_the_pert_mean() {
        let net = milwaukee();
        let n = 50_000u64;
        let r = simulate_finish(&net, n, 2026, None, &Stop::never()).unwrap();
        let t = net.expected_duration().to_f64().unwrap();
        let sigma = net.std_dev().to_f64().unwrap();
        let mean = r.mean().unwrap().to_f64().unwrap();
        assert!(mean >= t - 5.0 * sigma / (n as f64).sqrt(), "{mean} < {t}");
        // Here the near-critical chains (B–D–G–H, A–D–G–H at 14) push the mean clearly
        // above the PERT mean of 15.
        assert!(mean > t + 0.1, "{mean}");
    }

    /// Two projects that are one shared task each go live in the same month on every
    /// path; unshared, the same tasks differ on some paths.
    #[test]
    fn shared_tasks_correlate_go_lives() {
        use crate::scenario::SimProject;
        let project = |name: &str, shared: bool| SimProject {
            name: name.into(),
            deal: name.into(),
            start_month: Decimal::ZERO,
            go_live: "wms".into(),
            tasks: vec![t("wms", 4, 8, 40, &[])],
            shared: if shared { vec!["wms".into()] } else { vec![] },
        };
        let months = |shared: bool| {
            let g = GoLives::new(&[project("a", shared), project("b", shared)]).unwrap();
            let mut sc = g.scratch();
            let proto = ChaCha8Rng::seed_from_u64(1);
            (0..200u64)
                .map(|path| {
                    let mut rng = proto.clone();
                    rng.set_stream(path);
                    let mut m = [0u32; 2];
                    g.draw(&mut rng, &mut sc, &mut m);
                    m
                })
                .collect::<Vec<_>>()
        };
        assert!(months(true).iter().all(|m| m[0] == m[1]));
        assert!(months(false).iter().any(|m| m[0] != m[1]));
        // 4 to 40 weeks: go-live between month 1 and month 10.
        assert!(months(true).iter().all(|m| (1..=10).contains(&m[0])));
    }

    #[test]
    fn refuses_zero_paths_threads_and_impossible_allocations() {
        let net = milwaukee();
        assert!(simulate_finish(&net, 0, 1, None, &Stop::never()).is_err());
        assert!(simulate_finish(&net, 10, 1, Some(0), &Stop::never()).is_err());
        let e = simulate_finish(&net, u64::MAX, 1, None, &Stop::never()).unwrap_err();
        assert!(e.to_string().contains("do not fit in memory"), "{e}");
        // An empty project finishes at 0.
        let r = simulate_finish(
            &Project::new("none").network().unwrap(),
            10,
            1,
            None,
            &Stop::never(),
        )
        .unwrap();
        assert_eq!(r.mean().unwrap(), Decimal::ZERO);
    }
}
