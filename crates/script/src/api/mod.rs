//! The analyst API: every function a script can call, registered with doc comments so
//! `kam api` (and Rhai's metadata) can list it.
//!
//! This layer converts and validates script arguments and calls `kam-core`; it does no
//! domain arithmetic of its own. A bad argument is a script error naming the function,
//! the argument and the problem; Rhai adds the caller's line and column.

use rhai::{Dynamic, Engine, EvalAltResult, FuncRegistration, INT, Position, RhaiNativeFunc};
use rust_decimal::Decimal;

pub(crate) mod delivery;
pub(crate) mod growth;
pub(crate) mod money;
pub(crate) mod negotiation;
pub(crate) mod pricing;
pub(crate) mod rules;
pub(crate) mod scorecard;
pub(crate) mod stakeholders;

/// One documented API entry, as listed by `kam api`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiEntry {
    /// Section of the analyst API (e.g. "Money and rounding").
    pub section: &'static str,
    /// The call as written in a script, e.g. `money(amount, currency) -> Money`.
    pub signature: String,
    /// What it does.
    pub doc: String,
}

/// The result type of every API function.
pub(crate) type R<T> = Result<T, Box<EvalAltResult>>;

/// Registers every API function into `engine`; returns the listing.
pub(crate) fn register(engine: &mut Engine) -> Vec<ApiEntry> {
    let mut api = Api {
        engine,
        entries: Vec::new(),
        section: "",
    };
    money::register(&mut api);
    pricing::register(&mut api);
    negotiation::register(&mut api);
    scorecard::register(&mut api);
    growth::register(&mut api);
    stakeholders::register(&mut api);
    delivery::register(&mut api);
    rules::register(&mut api);
    api.entries
}

/// Registration helper that records each function's documentation twice: into Rhai's
/// metadata and into the `kam api` listing.
pub(crate) struct Api<'e> {
    pub(crate) engine: &'e mut Engine,
    entries: Vec<ApiEntry>,
    section: &'static str,
}

impl Api<'_> {
    /// Starts a new section of the listing.
    pub(crate) fn section(&mut self, name: &'static str) {
        self.section = name;
    }

    /// Registers a custom type under its script name with a doc line.
    pub(crate) fn ty<T: Clone + Send + Sync + 'static>(&mut self, name: &'static str, doc: &str) {
        self.engine.register_type_with_name::<T>(name);
        self.entries.push(ApiEntry {
            section: self.section,
            signature: format!("type {name}"),
            doc: doc.to_owned(),
        });
    }

    /// Registers function `name` shown as `signature` (e.g. `"money(amount, currency) -> Money"`).
    /// `params` are the Rhai metadata parameter names/types, the last being the return type.
    pub(crate) fn func<A: 'static, const N: usize, const X: bool, Ret, const F: bool, FUNC>(
        &mut self,
        name: &str,
        params: &[&str],
        signature: &str,
        doc: &str,
        f: FUNC,
    ) where
        Ret: Clone + Send + Sync + 'static,
        FUNC: RhaiNativeFunc<A, N, X, Ret, F> + Send + Sync + 'static,
    {
        let comments: Vec<String> = vec![
            doc.lines()
                .map(|l| format!("/// {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
        ];
        FuncRegistration::new(name)
            .with_params_info(params)
            .with_comments(comments)
            .register_into_engine(self.engine, f);
        self.entries.push(ApiEntry {
            section: self.section,
            signature: signature.to_owned(),
            doc: doc.to_owned(),
        });
    }

    /// Registers a property getter `obj.name`.
    pub(crate) fn getter<T: Clone + Send + Sync + 'static, Ret: Clone + Send + Sync + 'static>(
        &mut self,
        type_name: &str,
        name: &str,
        ret: &str,
        doc: &str,
        f: impl Fn(&mut T) -> Ret + Send + Sync + 'static,
    ) {
        let comments = vec![format!("/// {doc}")];
        FuncRegistration::new_getter(name)
            .with_params_info([
                format!("{}: &mut {type_name}", type_name.to_lowercase()),
                ret.to_owned(),
            ])
            .with_comments(comments)
            .register_into_engine(self.engine, f);
        self.entries.push(ApiEntry {
            section: self.section,
            signature: format!("{type_name}.{name} -> {ret}"),
            doc: doc.to_owned(),
        });
    }

    /// Registers a property getter that can fail (e.g. overflow while summing).
    pub(crate) fn getter_result<T: Clone + Send + Sync + 'static, Ret: Clone + Send + Sync + 'static>(
        &mut self,
        type_name: &str,
        name: &str,
        ret: &str,
        doc: &str,
        f: impl Fn(&mut T) -> R<Ret> + Send + Sync + 'static,
    ) {
        let comments = vec![format!("/// {doc}")];
        FuncRegistration::new_getter(name)
            .with_params_info([
                format!("{}: &mut {type_name}", type_name.to_lowercase()),
                ret.to_owned(),
            ])
            .with_comments(comments)
            .register_into_engine(self.engine, f);
        self.entries.push(ApiEntry {
            section: self.section,
            signature: format!("{type_name}.{name} -> {ret}"),
            doc: doc.to_owned(),
        });
    }

    /// Registers an operator or a helper without a listing entry (e.g. `+` on Money,
    /// `to_string`): documented in the type's entry instead.
    pub(crate) fn op<A: 'static, const N: usize, const X: bool, Ret, const F: bool, FUNC>(
        &mut self,
        name: &str,
        f: FUNC,
    ) where
        Ret: Clone + Send + Sync + 'static,
        FUNC: RhaiNativeFunc<A, N, X, Ret, F> + Send + Sync + 'static,
    {
        FuncRegistration::new(name).register_into_engine(self.engine, f);
    }
}

// ---------------------------------------------------------------- argument conversion

/// A script error naming the function, the argument and the problem. Rhai fills in the
/// caller's position.
pub(crate) fn arg_err(func: &str, arg: &str, problem: impl std::fmt::Display) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(format!("{func}: argument `{arg}`: {problem}")),
        Position::NONE,
    ))
}

/// A script error from a domain failure inside `func`. A domain message that already
/// starts with the function's name (kam-core names its operations too) is not prefixed
/// twice.
pub(crate) fn fn_err(func: &str, problem: impl std::fmt::Display) -> Box<EvalAltResult> {
    let problem = problem.to_string();
    let problem = problem
        .strip_prefix(func)
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(&problem);
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(format!("{func}: {problem}")),
        Position::NONE,
    ))
}

/// The type name an analyst recognises.
pub(crate) fn type_name(v: &Dynamic) -> String {
    if v.is_unit() {
        "()".to_owned()
    } else if v.is_int() {
        "integer".to_owned()
    } else if v.is::<Decimal>() {
        "decimal".to_owned()
    } else if v.is_string() {
        "string".to_owned()
    } else if v.is_array() {
        "array".to_owned()
    } else if v.is_map() {
        "map".to_owned()
    } else if v.is_bool() {
        "bool".to_owned()
    } else {
        v.type_name().rsplit("::").next().unwrap_or("value").to_owned()
    }
}

/// A number argument: an integer or a decimal.
pub(crate) fn num(func: &str, arg: &str, v: &Dynamic) -> R<Decimal> {
    to_decimal(v).ok_or_else(|| {
        arg_err(
            func,
            arg,
            format!("must be a number (integer or decimal), got {}", type_name(v)),
        )
    })
}

/// An integer or decimal as a `Decimal`, or `None` for anything else.
pub(crate) fn to_decimal(v: &Dynamic) -> Option<Decimal> {
    if let Ok(i) = v.as_int() {
        Some(Decimal::from(i))
    } else {
        v.as_decimal().ok()
    }
}

/// A whole-number argument (decimal places, paths, a seed): an integer, or a decimal with
/// nothing after the point (`10.0`), since scripts may pass either wherever a number is
/// expected. `None` for anything else, including a whole decimal beyond the integer range.
pub(crate) fn whole(v: &Dynamic) -> Option<INT> {
    if let Ok(i) = v.as_int() {
        return Some(i);
    }
    let d = v.as_decimal().ok()?;
    if d.fract().is_zero() {
        rust_decimal::prelude::ToPrimitive::to_i64(&d)
    } else {
        None
    }
}

/// An id given as a string or an integer (a whole decimal counts as its integer), as
/// its text; `None` for anything else.
pub(crate) fn id_text(v: &Dynamic) -> Option<String> {
    if v.is_string() {
        return Some(v.to_string());
    }
    if v.is_int() || v.is::<Decimal>() {
        return whole(v).map(|i| i.to_string());
    }
    None
}

/// A probability argument: a number from 0 to 1 inclusive.
pub(crate) fn probability(func: &str, arg: &str, v: &Dynamic) -> R<Decimal> {
    let p = num(func, arg, v)?;
    if p < Decimal::ZERO || p > Decimal::ONE {
        return Err(arg_err(func, arg, format!("must be between 0 and 1, got {p}")));
    }
    Ok(p)
}

/// A number argument that must not be negative.
pub(crate) fn non_negative(func: &str, arg: &str, v: &Dynamic) -> R<Decimal> {
    let d = num(func, arg, v)?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err(arg_err(func, arg, format!("must not be negative, got {d}")));
    }
    Ok(d)
}

/// A string argument.
pub(crate) fn string(func: &str, arg: &str, v: &Dynamic) -> R<String> {
    v.clone()
        .into_string()
        .map_err(|_| arg_err(func, arg, format!("must be a string, got {}", type_name(v))))
}

/// An array argument.
pub(crate) fn array(func: &str, arg: &str, v: &Dynamic) -> R<rhai::Array> {
    v.clone()
        .into_array()
        .map_err(|_| arg_err(func, arg, format!("must be an array, got {}", type_name(v))))
}

/// A map argument.
pub(crate) fn map(func: &str, arg: &str, v: &Dynamic) -> R<rhai::Map> {
    v.clone()
        .try_cast::<rhai::Map>()
        .ok_or_else(|| arg_err(func, arg, format!("must be a map, got {}", type_name(v))))
}

/// A required number field of a map argument, e.g. `indices[1].weight`.
pub(crate) fn field_num(func: &str, path: &str, m: &rhai::Map, key: &str) -> R<Decimal> {
    match m.get(key) {
        Some(v) => num(func, &format!("{path}.{key}"), v),
        None => Err(arg_err(func, path, format!("missing field `{key}`"))),
    }
}

/// An optional number field (absent or `()` is `None`).
pub(crate) fn field_num_opt(func: &str, path: &str, m: &rhai::Map, key: &str) -> R<Option<Decimal>> {
    match m.get(key) {
        None => Ok(None),
        Some(v) if v.is_unit() => Ok(None),
        Some(v) => num(func, &format!("{path}.{key}"), v).map(Some),
    }
}

/// A required string field of a map argument.
pub(crate) fn field_str(func: &str, path: &str, m: &rhai::Map, key: &str) -> R<String> {
    match m.get(key) {
        Some(v) => string(func, &format!("{path}.{key}"), v),
        None => Err(arg_err(func, path, format!("missing field `{key}`"))),
    }
}

/// Rejects map keys outside `allowed` (a typo such as `upto` must not be ignored).
pub(crate) fn known_fields(func: &str, path: &str, m: &rhai::Map, allowed: &[&str]) -> R<()> {
    for key in m.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(arg_err(
                func,
                path,
                format!("unknown field `{key}` (expected {})", allowed.join(", ")),
            ));
        }
    }
    Ok(())
}
