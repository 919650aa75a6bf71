//! A probe's outcome as it is kept: the edge's prober writes it, the store keeps the latest
//! per server and the server shows it, so the three share this one shape.

/// One server's latest probe outcome.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ProbeRecord {
    /// `address:port` as probed.
    pub target: String,
    /// `tcp` or `tls`.
    pub transport: Option<String>,
    /// `pool`, `not-pool` or `unreachable`.
    pub verdict: String,
    /// The dialect the answer spoke.
    pub dialect: Option<String>,
    /// The coin the answer showed.
    pub coin: Option<String>,
    /// Why.
    pub reason: String,
    /// A bounded excerpt of the answer.
    pub answer: String,
    /// Connections made.
    pub connections: i64,
    /// When (Unix seconds).
    pub probed_at: i64,
    /// Until when it stands (Unix seconds).
    pub expires_at: i64,
}
