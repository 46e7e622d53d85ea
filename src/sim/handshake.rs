//! WORK IN PROGRESS: the validation handshake (being written).
