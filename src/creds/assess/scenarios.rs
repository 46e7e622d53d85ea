//! Scenario tests: one per shape of trouble an operator meets, each built from the healthy
//! fixture profile with one thing broken.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::test_facts::*;
use super::*;
