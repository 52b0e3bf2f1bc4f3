//! Local emulator of the four listener APIs (framework in progress).
#![warn(missing_docs)]

pub mod service;
