//! Splitting what a user types into statements: a statement is a dot
//! command (a line starting with `.`) or EDN forms, and it goes on over
//! several lines until its brackets balance. The scanner knows EDN's
//! strings, characters and `;` comments, so a bracket inside them does not
//! count. The REPL's line editor asks [`is_complete`]; scripts, `-e` text
//! and imported files are cut with [`StatementReader`] and [`FormReader`],
//! which refuse what is not text and bound what they hold.

/// One statement of a script, with the 1-based line it starts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The statement's text, without surrounding blank lines.
    pub text: String,
    /// The line of the script its first character is on.
    pub line: usize,
}

/// The most bytes a statement or a top-level form may take, counted from
/// the end of the one before (blank lines and comments between them
/// included): past it the input is refused as endless, so that memory
/// stays bounded whatever is read.
pub const MAX_STATEMENT_BYTES: usize = 64 << 20;

/// Why an input could not be cut into statements or forms. Nothing of the
/// input itself is repeated in the message, nor the line, which the
/// caller names with the script or file.
#[derive(Debug)]
pub enum InputError {
    /// Reading failed.
    Io(std::io::Error),
    /// The input is not text, as in a binary file.
    NotText {
        /// The 1-based line where it shows.
        line: usize,
        /// What was found: a NUL byte, or bytes that are not UTF-8.
        found: &'static str,
    },
    /// [`MAX_STATEMENT_BYTES`] were read without a statement or form ending.
    TooLong {
        /// The 1-based line where the unfinished statement or form starts
        /// (where the text after the last one starts, when none has).
        line: usize,
    },
}

impl InputError {
    /// The line the error is at, when it is about the input's text.
    pub fn line(&self) -> Option<usize> {
        match self {
            InputError::Io(_) => None,
            InputError::NotText { line, .. } | InputError::TooLong { line } => Some(*line),
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputError::Io(error) => write!(f, "{error}"),
            InputError::NotText { found, .. } => {
                write!(f, "not text: it holds {found} (is it a binary file?)")
            }
            InputError::TooLong { .. } => write!(
                f,
                "the text from this line on goes past {} MiB without ending a statement, \
                 the most one statement or form may take (endless input, or a bracket never \
                 closed?)",
                MAX_STATEMENT_BYTES >> 20
            ),
        }
    }
}

impl std::error::Error for InputError {}

/// How far a text's brackets are from balancing, fed piece by piece.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Scan {
    /// Brackets opened and not yet closed (negative when more closed).
    depth: i64,
    /// The text ends inside a string.
    in_string: bool,
    /// The last character was a backslash, escaping the next one.
    escaped: bool,
    /// The text ends inside a `;` comment.
    in_comment: bool,
}

impl Scan {
    fn feed(&mut self, text: &str) {
        for c in text.chars() {
            if self.escaped {
                // In a string an escape, outside a character literal such
                // as `\(` or `\newline`.
                self.escaped = false;
            } else if self.in_comment {
                self.in_comment = c != '\n';
            } else if self.in_string {
                match c {
                    '\\' => self.escaped = true,
                    '"' => self.in_string = false,
                    _ => {}
                }
            } else {
                match c {
                    '"' => self.in_string = true,
                    '\\' => self.escaped = true,
                    ';' => self.in_comment = true,
                    '(' | '[' | '{' => self.depth += 1,
                    ')' | ']' | '}' => self.depth -= 1,
                    _ => {}
                }
            }
        }
    }

    /// No string left open and no bracket left unclosed.
    fn is_complete(&self) -> bool {
        !self.in_string && self.depth <= 0
    }
}

/// Whether `text` is a whole statement: no string left open and no bracket
/// left unclosed. Too many closing brackets count as complete, so that the
/// reader reports them.
pub fn is_complete(text: &str) -> bool {
    let mut scan = Scan::default();
    scan.feed(text);
    scan.is_complete()
}

/// Cuts a script into statements as it reads it, a line at a time, so
/// that a script of any length runs in the memory of one statement. A
/// statement ends at the end of a line where its brackets balance; blank
/// lines and lines holding only a `;` comment between statements are
/// skipped. A text that ends inside an open bracket yields that last
/// incomplete statement too, for the reader to reject with a position. A
/// NUL byte or bytes that are not UTF-8 ([`InputError::NotText`]), a read
/// error, or [`MAX_STATEMENT_BYTES`] without a statement ending
/// ([`InputError::TooLong`]) end the statements with that error.
pub struct StatementReader<R> {
    reader: R,
    /// The lines read so far.
    lines: usize,
    /// The bytes read since the last statement ended.
    pending: usize,
    /// An error or the end was reached.
    done: bool,
}

impl<R: std::io::BufRead> StatementReader<R> {
    /// Reads the statements of `reader`.
    pub fn new(reader: R) -> StatementReader<R> {
        StatementReader {
            reader,
            lines: 0,
            pending: 0,
            done: false,
        }
    }

    fn next_statement(&mut self) -> Result<Option<Statement>, InputError> {
        use std::io::{BufRead, Read};
        let mut current = String::new();
        let mut start_line = self.lines + 1;
        let mut scan = Scan::default();
        let mut bytes = Vec::new();
        loop {
            bytes.clear();
            // One byte more than is left, to tell a statement that fills
            // the limit from one that goes past it.
            let room = (MAX_STATEMENT_BYTES - self.pending) as u64 + 1;
            let read = (&mut self.reader)
                .take(room)
                .read_until(b'\n', &mut bytes)
                .map_err(InputError::Io)?;
            if read == 0 {
                break;
            }
            self.pending += read;
            self.lines += 1;
            if bytes.contains(&0) {
                return Err(InputError::NotText {
                    line: self.lines,
                    found: NUL_BYTE,
                });
            }
            if self.pending > MAX_STATEMENT_BYTES {
                return Err(InputError::TooLong { line: start_line });
            }
            let line = line_text(&bytes, self.lines)?;
            if current.is_empty() {
                let trimmed = line.trim();
                if trimmed.is_empty() || trimmed.starts_with(';') {
                    continue;
                }
                start_line = self.lines;
            } else {
                current.push('\n');
                scan.feed("\n");
            }
            current.push_str(line);
            scan.feed(line);
            if scan.is_complete() {
                self.pending = 0;
                return Ok(Some(Statement {
                    text: current.trim().to_string(),
                    line: start_line,
                }));
            }
        }
        if current.trim().is_empty() {
            return Ok(None);
        }
        Ok(Some(Statement {
            text: current.trim().to_string(),
            line: start_line,
        }))
    }
}

/// A line's text without its line break, refused when it is not UTF-8.
fn line_text(bytes: &[u8], line: usize) -> Result<&str, InputError> {
    let text = std::str::from_utf8(bytes).map_err(|_| InputError::NotText {
        line,
        found: NOT_UTF8,
    })?;
    Ok(text.trim_end_matches('\n').trim_end_matches('\r'))
}

/// Refuses a binary file by the bytes at its start (those `reader` holds
/// buffered, up to its capacity: 8 KiB for a `BufReader`), as `grep` and
/// `git` tell binary files: a NUL byte, or bytes that are not UTF-8 (a
/// character cut at the buffer's end aside). Nothing is consumed.
pub fn refuse_binary(reader: &mut impl std::io::BufRead) -> Result<(), InputError> {
    let start = reader.fill_buf().map_err(InputError::Io)?;
    let line_of = |end: usize| 1 + start[..end].iter().filter(|&&byte| byte == b'\n').count();
    if let Some(at) = start.iter().position(|&byte| byte == 0) {
        return Err(InputError::NotText {
            line: line_of(at),
            found: NUL_BYTE,
        });
    }
    match std::str::from_utf8(start) {
        Err(error) if error.error_len().is_some() => Err(InputError::NotText {
            line: line_of(error.valid_up_to()),
            found: NOT_UTF8,
        }),
        _ => Ok(()),
    }
}

/// A reader of records (CSV rows) that refuses to read more than
/// [`MAX_STATEMENT_BYTES`] past the end of the last record its caller
/// finished ([`RecordMark::finished`]): a record that never ends (endless
/// input without a line break, or a quote never closed) fails with an I/O
/// error that [`RecordLimit::too_long`] recognises, instead of filling
/// memory. The reader ahead of the limit is shared through a counter, as
/// the record parser owns the reader.
pub struct RecordLimit<R> {
    inner: R,
    read: u64,
    finished: std::rc::Rc<std::cell::Cell<u64>>,
}

/// The caller's side of a [`RecordLimit`]: where the last finished record
/// ends.
#[derive(Clone)]
pub struct RecordMark(std::rc::Rc<std::cell::Cell<u64>>);

impl<R> RecordLimit<R> {
    /// `inner`, limited, and the mark its caller moves after each record.
    pub fn new(inner: R) -> (RecordLimit<R>, RecordMark) {
        let finished = std::rc::Rc::new(std::cell::Cell::new(0));
        let mark = RecordMark(finished.clone());
        let reader = RecordLimit {
            inner,
            read: 0,
            finished,
        };
        (reader, mark)
    }

    /// Whether `error` is this reader's refusal of a record too long.
    pub fn too_long(error: &std::io::Error) -> bool {
        error
            .get_ref()
            .is_some_and(|inner| inner.is::<RecordTooLong>())
    }
}

impl RecordMark {
    /// Records end at byte `offset` of the input.
    pub fn finished(&self, offset: u64) {
        self.0.set(offset);
    }
}

impl<R: std::io::Read> std::io::Read for RecordLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.read.saturating_sub(self.finished.get()) > MAX_STATEMENT_BYTES as u64 {
            return Err(std::io::Error::other(RecordTooLong));
        }
        let count = self.inner.read(buf)?;
        self.read += count as u64;
        Ok(count)
    }
}

/// The error inside the I/O error a [`RecordLimit`] fails with.
#[derive(Debug)]
struct RecordTooLong;

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a record goes past {} MiB", MAX_STATEMENT_BYTES >> 20)
    }
}

impl std::error::Error for RecordTooLong {}

const NUL_BYTE: &str = "a NUL byte";
const NOT_UTF8: &str = "bytes that are not UTF-8";

impl<R: std::io::BufRead> Iterator for StatementReader<R> {
    type Item = Result<Statement, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.next_statement().transpose();
        self.done = !matches!(next, Some(Ok(_)));
        next
    }
}

/// One top-level form of a file, as [`FormReader`] cuts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    /// The form's text.
    pub text: String,
    /// The 1-based line it starts on.
    pub line: usize,
    /// The 1-based column (in characters) it starts at.
    pub column: usize,
    /// The bytes of the file read up to the end of the form.
    pub end: u64,
}

impl Form {
    /// The place in the file of a position (1-based line and column) that
    /// a reader of the form's text reports.
    pub fn place(&self, line: usize, column: usize) -> (usize, usize) {
        match line {
            0 | 1 => (self.line, self.column + column.saturating_sub(1)),
            _ => (self.line + line - 1, column),
        }
    }
}

/// How a file's forms are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// One form after another (EDN; JSON with one object a line).
    Sequence,
    /// The elements of one outer array (`[{...}, {...}]`): the opening and
    /// closing brackets are not forms.
    ArrayElements,
}

/// Cuts a file into its top-level forms as it reads it, without reading
/// the forms, so that a file of any size is read and transacted one form
/// at a time in the memory of one form. It knows strings, character
/// literals and `;` comments, so brackets inside them do not count; JSON
/// strings and brackets read alike, and commas are whitespace to it. Text
/// outside any bracket other than whitespace, commas and comments is a form
/// of its own, for the reader to reject. A NUL byte or a form that is not
/// UTF-8 ([`InputError::NotText`]), and [`MAX_STATEMENT_BYTES`] without a
/// form ending ([`InputError::TooLong`]), are errors.
pub struct FormReader<R> {
    reader: R,
    scanner: Scanner,
    /// An error was met: the reader gives no more forms.
    failed: bool,
}

impl<R: std::io::BufRead> FormReader<R> {
    /// Reads the forms of `reader`, laid out as `framing` says.
    pub fn new(reader: R, framing: Framing) -> FormReader<R> {
        FormReader {
            reader,
            scanner: Scanner {
                line: 1,
                column: 1,
                offset: 0,
                form_end: 0,
                form_end_line: 1,
                form: Vec::new(),
                start: None,
                depth: 0,
                in_string: false,
                escaped: false,
                in_comment: false,
                array: match framing {
                    Framing::Sequence => Array::None,
                    Framing::ArrayElements => Array::BeforeOpen,
                },
            },
            failed: false,
        }
    }

    /// The bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.scanner.offset
    }

    fn next_form(&mut self) -> Result<Option<Form>, InputError> {
        loop {
            let chunk = self.reader.fill_buf().map_err(InputError::Io)?;
            if chunk.is_empty() {
                return self.scanner.finish();
            }
            let mut used = chunk.len();
            let mut found = None;
            for (index, &byte) in chunk.iter().enumerate() {
                if let Some(form) = self.scanner.step(byte) {
                    used = index + 1;
                    found = Some(form);
                    break;
                }
            }
            self.reader.consume(used);
            if let Some(form) = found {
                return form.map(Some);
            }
        }
    }
}

impl<R: std::io::BufRead> Iterator for FormReader<R> {
    type Item = Result<Form, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let next = self.next_form().transpose();
        self.failed = matches!(next, Some(Err(_)));
        next
    }
}

/// Where an [`Framing::ArrayElements`] file is in its outer array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Array {
    None,
    BeforeOpen,
    Open,
    Closed,
}

/// The state of [`FormReader`] between bytes. The structural characters are
/// ASCII, which no byte of a longer UTF-8 character is, so the scan goes
/// byte by byte.
struct Scanner {
    /// The position of the next byte.
    line: usize,
    column: usize,
    offset: u64,
    /// Where the last form ended (its offset and line): the bytes after it
    /// are bounded.
    form_end: u64,
    form_end_line: usize,
    /// The bytes of the form being read, and where it started.
    form: Vec<u8>,
    start: Option<(usize, usize)>,
    depth: i64,
    in_string: bool,
    escaped: bool,
    in_comment: bool,
    array: Array,
}

impl Scanner {
    /// Takes one byte; gives the form it ends, if any.
    fn step(&mut self, byte: u8) -> Option<Result<Form, InputError>> {
        let position = (self.line, self.column);
        self.offset += 1;
        if byte == 0 {
            return Some(Err(InputError::NotText {
                line: self.line,
                found: NUL_BYTE,
            }));
        }
        if self.offset - self.form_end > MAX_STATEMENT_BYTES as u64 {
            let line = self.start.map_or(self.form_end_line, |(line, _)| line);
            return Some(Err(InputError::TooLong { line }));
        }
        if byte == b'\n' {
            self.line += 1;
            self.column = 1;
        } else if byte & 0xC0 != 0x80 {
            self.column += 1;
        }
        let in_form = self.start.is_some();
        if self.in_comment || self.escaped || self.in_string {
            if in_form {
                self.form.push(byte);
            }
            if self.in_comment {
                self.in_comment = byte != b'\n';
            } else if self.escaped {
                self.escaped = false;
            } else {
                match byte {
                    b'\\' => self.escaped = true,
                    b'"' => self.in_string = false,
                    _ => {}
                }
            }
            return None;
        }
        if !in_form {
            if byte.is_ascii_whitespace() || byte == b',' {
                return None;
            }
            match (self.array, byte) {
                (_, b';') => {
                    self.in_comment = true;
                    return None;
                }
                (Array::BeforeOpen, b'[') => {
                    self.array = Array::Open;
                    return None;
                }
                (Array::Open, b']') => {
                    self.array = Array::Closed;
                    return None;
                }
                _ => self.start = Some(position),
            }
        }
        self.form.push(byte);
        match byte {
            b'"' => self.in_string = true,
            b'\\' => self.escaped = true,
            b';' => self.in_comment = true,
            b'(' | b'[' | b'{' => self.depth += 1,
            b')' | b']' | b'}' => {
                self.depth -= 1;
                if self.depth <= 0 {
                    return Some(self.take());
                }
            }
            b' ' | b'\t' | b'\r' | b'\n' | b',' if self.depth == 0 => {
                self.form.pop();
                return Some(self.take());
            }
            _ => {}
        }
        None
    }

    /// The form read so far, when the input ends.
    fn finish(&mut self) -> Result<Option<Form>, InputError> {
        if self.start.is_none() {
            return Ok(None);
        }
        self.take().map(Some)
    }

    fn take(&mut self) -> Result<Form, InputError> {
        let (line, column) = self.start.take().unwrap_or((self.line, self.column));
        self.depth = 0;
        self.in_string = false;
        self.escaped = false;
        self.in_comment = false;
        self.form_end = self.offset;
        self.form_end_line = self.line;
        let text =
            String::from_utf8(std::mem::take(&mut self.form)).map_err(|_| InputError::NotText {
                line,
                found: NOT_UTF8,
            })?;
        Ok(Form {
            text,
            line,
            column,
            end: self.offset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completeness_ignores_brackets_in_strings_characters_and_comments() {
        let cases = [
            ("[:find ?x", false),
            ("[:find ?x]", true),
            ("[\"]\"", false),
            ("[\\]", false),
            ("[\\] ]", true),
            ("[; ]\n", false),
            ("[; ]\n]", true),
            ("\"open", false),
            ("]", true),
            (".help", true),
            (".explain [:find ?x\n :where [?x :a/b]]", true),
        ];
        for (text, complete) in cases {
            assert_eq!(is_complete(text), complete, "{text:?}");
        }
    }

    #[test]
    fn statements_span_lines_until_balanced_and_keep_their_line() {
        let script =
            "; a comment\n\n.mode csv\n[:find ?x\n :where\n [?x :a/b]]\n\n[{:a/b 1}]\n[:find";
        let found: Vec<Statement> = StatementReader::new(script.as_bytes())
            .collect::<Result<_, _>>()
            .expect("text");
        let expected = [
            (".mode csv", 3),
            ("[:find ?x\n :where\n [?x :a/b]]", 4),
            ("[{:a/b 1}]", 8),
            ("[:find", 9),
        ];
        assert_eq!(found.len(), expected.len());
        for (statement, (text, line)) in found.iter().zip(expected) {
            assert_eq!((statement.text.as_str(), statement.line), (text, line));
        }
    }

    /// The error a reader ends with: its line and message.
    fn error_of<T: std::fmt::Debug>(
        items: impl Iterator<Item = Result<T, InputError>>,
    ) -> (Option<usize>, String) {
        match items.last() {
            Some(Err(error)) => (error.line(), error.to_string()),
            other => panic!("no error, the last item is {other:?}"),
        }
    }

    /// An endless input repeating `pattern`.
    struct Repeating {
        pattern: Vec<u8>,
        at: usize,
    }

    impl std::io::Read for Repeating {
        fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
            for byte in buffer.iter_mut() {
                *byte = self.pattern[self.at];
                self.at = (self.at + 1) % self.pattern.len();
            }
            Ok(buffer.len())
        }
    }

    #[test]
    fn a_statement_or_form_stops_at_the_limit_of_endless_input() {
        use std::io::{BufReader, Read};
        // Regression (issue 15): an endless input was held whole.
        let too_long = (
            Some(2),
            "the text from this line on goes past 64 MiB without ending a statement, the most \
             one statement or form may take (endless input, or a bracket never closed?)"
                .to_string(),
        );
        let endless = |pattern: &[u8]| {
            let endless = Repeating {
                pattern: pattern.to_vec(),
                at: 0,
            };
            BufReader::new(b"[:find ?x]\n".chain(endless))
        };
        assert_eq!(error_of(StatementReader::new(endless(b"["))), too_long);
        assert_eq!(
            error_of(FormReader::new(endless(b"["), Framing::Sequence)),
            too_long
        );
        // Blank lines and comments count too.
        let comment = format!(";{}\n", " ".repeat(1022));
        assert_eq!(
            error_of(StatementReader::new(endless(comment.as_bytes()))),
            too_long
        );
    }

    #[test]
    fn binary_input_is_refused_without_repeating_it() {
        let nul = "not text: it holds a NUL byte (is it a binary file?)".to_string();
        let not_utf8 =
            "not text: it holds bytes that are not UTF-8 (is it a binary file?)".to_string();
        let cases: [(&[u8], _); 3] = [
            (b"[1]\n\x7fELF\x02\x01\0[:secret]", (Some(2), nul.clone())),
            (b"[1]\n[\x89PNG :secret]", (Some(2), not_utf8.clone())),
            (b"[1] \"\0\"", (Some(1), nul.clone())),
        ];
        for (bytes, expected) in cases {
            assert_eq!(error_of(StatementReader::new(bytes)), expected);
            let forms = FormReader::new(std::io::BufReader::new(bytes), Framing::Sequence);
            assert_eq!(error_of(forms), expected);
            assert_eq!(
                refuse_binary(&mut std::io::BufReader::new(bytes)).map_err(|error| error.line()),
                Err(expected.0)
            );
        }
        assert!(refuse_binary(&mut "[1]\n[\"é\"]".as_bytes()).is_ok());
        let zeros = std::io::BufReader::new(std::io::repeat(0));
        assert_eq!(error_of(StatementReader::new(zeros)), (Some(1), nul));
    }

    fn forms(text: &str, framing: Framing, chunk: usize) -> Vec<(String, usize, usize)> {
        let reader = std::io::BufReader::with_capacity(chunk, text.as_bytes());
        FormReader::new(reader, framing)
            .map(|form| {
                let form = form.expect("UTF-8 text");
                (form.text, form.line, form.column)
            })
            .collect()
    }

    #[test]
    fn forms_are_cut_between_collections_whatever_the_chunks_read() {
        let text = "[1 \"]\" 2]\n; note [\n[3] ,{:a [\"é\" \\]]} x";
        let expected = [
            ("[1 \"]\" 2]", 1, 1),
            ("[3]", 3, 1),
            ("{:a [\"é\" \\]]}", 3, 6),
            ("x", 3, 20),
        ];
        for chunk in [1, 2, 3, 7, 1024] {
            let found = forms(text, Framing::Sequence, chunk);
            let found: Vec<(&str, usize, usize)> = found
                .iter()
                .map(|(text, line, column)| (text.as_str(), *line, *column))
                .collect();
            assert_eq!(found, expected, "chunks of {chunk} bytes");
        }
    }

    #[test]
    fn the_elements_of_an_outer_array_are_the_forms() {
        let text = "[\n {\"a\": \"]\"},\n {\"b\": [1]}\n]\n";
        let found = forms(text, Framing::ArrayElements, 4);
        assert_eq!(
            found,
            [
                ("{\"a\": \"]\"}".to_string(), 2, 2),
                ("{\"b\": [1]}".to_string(), 3, 2)
            ]
        );
    }
}
