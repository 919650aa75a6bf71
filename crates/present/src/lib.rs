//! Presentation shared by the command line and the server: printable documents as HTML and
//! charts as SVG, made from what the store gathers. The store keeps data; pages are made here,
//! so the store carries no HTML and no plotting library.

pub mod chart;
pub mod html;
pub mod text;

/// Why a page or chart could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PresentError {
    /// Drawing failed.
    #[error("drawing {0}")]
    Draw(String),
    /// The file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}
