//! Liveness and readiness, for `/healthz` and `/readyz`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

type Check = Arc<dyn Fn() -> bool + Send + Sync>;

/// Whether the server should get traffic. Cheap to clone; clones share the state.
///
/// `/healthz` answers 200 while the process can answer at all. `/readyz` answers 200 while
/// [`Health::readiness`] is ready: the flag (on by default; turn it off to drain before a
/// shutdown) and every named check.
///
/// ```
/// use mcp_core::layers::Health;
/// let health = Health::new();
/// assert!(health.readiness().ready);
/// health.add_check("database", || false);
/// let r = health.readiness();
/// assert!(!r.ready);
/// assert_eq!(r.failing, ["database"]);
/// ```
#[derive(Clone)]
pub struct Health {
    inner: Arc<Inner>,
}

struct Inner {
    ready: AtomicBool,
    checks: RwLock<Vec<(String, Check)>>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health")
            .field("readiness", &self.readiness())
            .finish()
    }
}

impl Default for Health {
    fn default() -> Self {
        Health {
            inner: Arc::new(Inner {
                ready: AtomicBool::new(true),
                checks: RwLock::new(Vec::new()),
            }),
        }
    }
}

/// What [`Health::readiness`] found.
///
/// See [`Health`] for an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// Whether to send traffic.
    pub ready: bool,
    /// The names of the checks that failed (`"draining"` when the flag is off).
    pub failing: Vec<String>,
}

impl Health {
    /// Ready, with no checks.
    ///
    /// See [`Health`] for an example.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the readiness flag: `false` while starting up or draining.
    ///
    /// ```
    /// # use mcp_core::layers::Health;
    /// let h = Health::new();
    /// h.set_ready(false);
    /// assert_eq!(h.readiness().failing, ["draining"]);
    /// ```
    pub fn set_ready(&self, ready: bool) {
        self.inner.ready.store(ready, Ordering::Release);
    }

    /// Adds a check that must pass for the server to be ready. It runs on every `/readyz`, so
    /// keep it cheap (read a flag; don't open connections).
    ///
    /// See [`Health`] for an example.
    pub fn add_check(
        &self,
        name: impl Into<String>,
        check: impl Fn() -> bool + Send + Sync + 'static,
    ) {
        let mut checks = match self.inner.checks.write() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        checks.push((name.into(), Arc::new(check)));
    }

    /// Runs the checks.
    ///
    /// See [`Health`] for an example.
    pub fn readiness(&self) -> Readiness {
        let mut failing = Vec::new();
        if !self.inner.ready.load(Ordering::Acquire) {
            failing.push("draining".to_owned());
        }
        let checks = match self.inner.checks.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        };
        for (name, check) in checks {
            if !check() {
                failing.push(name);
            }
        }
        Readiness {
            ready: failing.is_empty(),
            failing,
        }
    }
}
