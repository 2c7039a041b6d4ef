//! Reading a whole file, but never more than a limit, and only a regular
//! file. Knows nothing of bulletins, the store or Discord.
//!
//! A path can name something that never ends (`/dev/zero`), never answers
//! (a FIFO with no writer) or is far larger than anything we want in memory
//! (a sparse file). So the path's metadata is checked first, the file is
//! opened without blocking, its metadata is checked again through the open
//! handle (the path may have been swapped in between), and at most `limit + 1`
//! bytes are read: one byte more than allowed is enough to know it is too big.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;

/// Why a file was not read. Each reads as the end of a sentence that starts
/// with the file's name.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read: {}", io_message(.0))]
    Io(io::Error),
    #[error("it is {0}, not a regular file")]
    NotAFile(&'static str),
    #[error("the file is {size} bytes; the most allowed is {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    #[error("the file is more than {limit} bytes, the most allowed")]
    GrewTooLarge { limit: u64 },
}

/// Reads the regular file at `path` whole, refusing it if it holds more
/// than `limit` bytes.
pub fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    check(&std::fs::metadata(path).map_err(ReadError::Io)?, limit)?;
    let file = open_without_blocking(path).map_err(ReadError::Io)?;
    check(&file.metadata().map_err(ReadError::Io)?, limit)?;
    read_at_most(file, limit)
}

/// Reads `reader` to its end, refusing it once it yields more than `limit`
/// bytes; never holds more than `limit + 1` bytes.
pub fn read_at_most(reader: impl Read, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::GrewTooLarge { limit });
    }
    Ok(bytes)
}

/// An I/O error as words, without the `(os error N)` that `Display` adds for
/// programmers.
pub fn io_message(error: &io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_owned(),
        _ => text,
    }
}

fn check(metadata: &Metadata, limit: u64) -> Result<(), ReadError> {
    if !metadata.is_file() {
        return Err(ReadError::NotAFile(kind(metadata)));
    }
    if metadata.len() > limit {
        return Err(ReadError::TooLarge {
            size: metadata.len(),
            limit,
        });
    }
    Ok(())
}

fn kind(metadata: &Metadata) -> &'static str {
    let file_type = metadata.file_type();
    if file_type.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "not a file"
}

/// Opens for reading. On unix with `O_NONBLOCK`, so that a FIFO swapped in
/// after the first check does not block the open; it has no effect on reading
/// a regular file.
fn open_without_blocking(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_within_the_limit_is_read_whole() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("small.txt");
        std::fs::write(&path, b"twelve bytes").expect("written");
        assert_eq!(read_capped(&path, 12).expect("read"), b"twelve bytes");
        assert!(matches!(
            read_capped(&path, 11),
            Err(ReadError::TooLarge {
                size: 12,
                limit: 11
            })
        ));
    }

    #[test]
    fn a_reader_that_never_ends_is_cut_off_one_byte_past_the_limit() {
        let error = read_at_most(io::repeat(b'a'), 1000).expect_err("endless");
        assert_eq!(
            error.to_string(),
            "the file is more than 1000 bytes, the most allowed"
        );
    }

    #[test]
    fn a_directory_is_refused_as_not_a_file() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let error = read_capped(dir.path(), 10).expect_err("a directory");
        assert_eq!(error.to_string(), "it is a directory, not a regular file");
    }

    #[test]
    fn an_os_error_reads_without_its_number() {
        let error = io::Error::from_raw_os_error(28);
        assert_eq!(io_message(&error), "No space left on device");
    }
}
