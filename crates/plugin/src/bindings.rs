//! Host-side bindings generated from `wit/rules.wit`, one module per world.

/// World `pricing-rule`.
pub(crate) mod pricing {
    wasmtime::component::bindgen!({ path: "../../wit", world: "pricing-rule" });
}

/// World `growth-rule`.
pub(crate) mod growth {
    wasmtime::component::bindgen!({ path: "../../wit", world: "growth-rule" });
}

/// World `kpi-scoring-rule`.
pub(crate) mod kpi {
    wasmtime::component::bindgen!({ path: "../../wit", world: "kpi-scoring-rule" });
}

/// World `alert-rule`.
pub(crate) mod alert {
    wasmtime::component::bindgen!({ path: "../../wit", world: "alert-rule" });
}
