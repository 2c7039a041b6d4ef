//! A fake Discord for tests. (Being written.)
