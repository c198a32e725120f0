//! Splitting what a user types into statements: a statement is a dot
//! command (a line starting with `.`) or EDN forms, and it goes on over
//! several lines until its brackets balance. The scanner knows EDN's
//! strings, characters and `;` comments, so a bracket inside them does not
//! count. The REPL's line editor asks [`is_complete`]; scripts, `-e` text
//! and imported files are cut with [`statements`] and [`FormReader`].

/// One statement of a script, with the 1-based line it starts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The statement's text, without surrounding blank lines.
    pub text: String,
    /// The line of the script its first character is on.
    pub line: usize,
}

/// How far a text's brackets are from balancing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Scan {
    /// Brackets opened and not yet closed (negative when more closed).
    depth: i64,
    /// The text ends inside a string.
    in_string: bool,
}

fn scan(text: &str) -> Scan {
    let mut state = Scan::default();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if state.in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => state.in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => state.in_string = true,
            '\\' => {
                // A character literal such as `\(` or `\newline`.
                chars.next();
            }
            ';' => {
                for rest in chars.by_ref() {
                    if rest == '\n' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => state.depth += 1,
            ')' | ']' | '}' => state.depth -= 1,
            _ => {}
        }
    }
    state
}

/// Whether `text` is a whole statement: no string left open and no bracket
/// left unclosed. Too many closing brackets count as complete, so that the
/// reader reports them.
pub fn is_complete(text: &str) -> bool {
    let state = scan(text);
    !state.in_string && state.depth <= 0
}

/// Cuts a script into statements. A statement ends at the end of a line
/// where its brackets balance; blank lines and lines holding only a `;`
/// comment between statements are skipped. A text that ends inside an open
/// bracket yields that last incomplete statement too, for the reader to
/// reject with a position.
pub fn statements(script: &str) -> Vec<Statement> {
    let mut result = Vec::new();
    let mut current = String::new();
    let mut start_line = 0;
    for (index, line) in script.lines().enumerate() {
        if current.is_empty() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with(';') {
                continue;
            }
            start_line = index + 1;
        } else {
            current.push('\n');
        }
        current.push_str(line);
        if is_complete(&current) {
            result.push(Statement {
                text: std::mem::take(&mut current).trim().to_string(),
                line: start_line,
            });
        }
    }
    if !current.trim().is_empty() {
        result.push(Statement {
            text: current.trim().to_string(),
            line: start_line,
        });
    }
    result
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
/// of its own, for the reader to reject.
pub struct FormReader<R> {
    reader: R,
    scanner: Scanner,
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
        }
    }

    /// The bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.scanner.offset
    }

    fn next_form(&mut self) -> std::io::Result<Option<Form>> {
        loop {
            let chunk = self.reader.fill_buf()?;
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
    type Item = std::io::Result<Form>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_form().transpose()
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
    fn step(&mut self, byte: u8) -> Option<std::io::Result<Form>> {
        let position = (self.line, self.column);
        self.offset += 1;
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
    fn finish(&mut self) -> std::io::Result<Option<Form>> {
        if self.start.is_none() {
            return Ok(None);
        }
        self.take().map(Some)
    }

    fn take(&mut self) -> std::io::Result<Form> {
        let (line, column) = self.start.take().unwrap_or((self.line, self.column));
        self.depth = 0;
        self.in_string = false;
        self.escaped = false;
        self.in_comment = false;
        let text = String::from_utf8(std::mem::take(&mut self.form)).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the text at line {line}, column {column} is not UTF-8"),
            )
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
        let found = statements(script);
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
