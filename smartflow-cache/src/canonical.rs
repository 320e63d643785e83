//! L3: the canonical form of a prompt (rephrasing-equivalent hashing).
//!
//! Two prompts are *rephrasing-equivalent* iff [`canonical_prompt`] returns byte-equal strings
//! for them. The layer serves a cached answer on equality alone, with no embedding and no guard,
//! so every equivalence below is one that cannot change the answer (or, for the few listed under
//! "Residual risks", almost never does). Anything not listed here is kept, so two prompts that
//! differ in any other way get different canonical forms (a miss, never a false hit).
//!
//! # What is treated as equivalent
//!
//! 1. **Unicode compatibility forms**: the text is NFKC-normalised (full-width letters and
//!    digits, ligatures, superscripts, `…` = `...`, no-break and other compatibility spaces).
//!    Curly apostrophes (`’ ‘ ʼ`) equal `'`, curly double quotes (`“ ” „`) equal `"`, and the
//!    minus sign `−` and en dash `–` equal `-`. Zero-width characters (U+200B–U+200D, U+2060,
//!    U+FEFF) and the soft hyphen are ignored.
//! 2. **Letter case**: every character outside quotes is lower-cased (`char::to_lowercase`).
//! 3. **Whitespace**: any run of whitespace or control characters (spaces, tabs, newlines) is
//!    one space; leading and trailing whitespace is removed.
//! 4. **Punctuation at the edges of a word**: at the start and end of each whitespace-separated
//!    token these are removed: brackets `( ) [ ] { }`, quotes `" ' `` ` `` « » ‹ ›`, and the
//!    sentence punctuation `. , ! ? ; : ¿ ¡ — 。 、` (a `.` is removed only at the end, so `.env`
//!    and `.5` keep it). Punctuation *inside* a token is always kept: `5.5`, `e.g`, `node.js`,
//!    `f(a)(b`, `don't`, `x>3`. Everything else is kept wherever it is, in particular the
//!    characters that change meaning: digits, `-` (sign, range, option: `-3` ≠ `3`), `+ # / % $
//!    € £ = < > * ^ @ & _ ~ |`, so `c++` ≠ `c` ≠ `c#` and `x > 3` ≠ `x < 3`. A token made only
//!    of removable punctuation (`...`, `?`, `—`) disappears.
//!
//!    **Quoted text is kept verbatim** apart from whitespace: inside `"…"`, `'…'`, `` `…` ``,
//!    `«…»` (and the curly forms) only the quote marks are removed, while case, punctuation and
//!    contractions stay as written, because quoted text is usually what the request operates
//!    on (proofreading, passwords, identifiers, strings to translate): `check 'Its a nice day'`
//!    ≠ `check 'it's a nice day.'`. A quote mark opens a quote only at the start of a word and
//!    closes it only at the end of one, so apostrophes (`don't`) are not quotes; a quote never
//!    closed keeps the rest of the prompt verbatim (a miss at worst).
//! 5. **Digit grouping**: inside a token outside quotes, a run `d{1,3}(,ddd)+` that is not part of a decimal
//!    fraction loses its commas: `1,000,000` = `1000000`, `$1,500.50` = `$1500.50`. Any other
//!    comma between digits stays (`1,5` ≠ `15`, `3,1,2` ≠ `312`).
//! 6. **Contractions** outside quotes (a fixed list, so negation stays visible): `isn't aren't wasn't weren't
//!    don't doesn't didn't haven't hasn't hadn't won't wouldn't can't couldn't shouldn't mustn't
//!    needn't shan't mightn't` become `<verb> not` (`won't` → `will not`, `can't` and `cannot` →
//!    `can not`, `shan't` → `shall not`); the apostrophe-less `dont doesnt didnt isnt arent wasnt
//!    werent havent hasnt couldnt shouldnt wouldnt` likewise (not `cant`/`wont`, which are
//!    words); `i'm` → `i am`; `you're we're they're` → `… are`; `i've you've we've they've
//!    could've should've would've might've must've` → `… have`; `i'll you'll he'll she'll it'll
//!    we'll they'll that'll` → `… will`; `it's that's what's where's when's who's how's why's
//!    there's here's he's she's` → `… is`; `let's` → `let us`. `'d` is ambiguous (had/would)
//!    and is kept.
//! 7. **Politeness and filler wrappers, at the start and at the end only**, repeatedly, and
//!    never when fewer than two words would remain (`Hello, world!` and `Thanks!` stay as they
//!    are) or when the wrapper is inside quotes:
//!    - at the start, a greeting `hi`, `hello`, `hey`, `hiya`, `greetings`, optionally followed
//!      by `there`, `all`, `everyone` or `team`, when it is followed by punctuation (`Hi,`) or
//!      by a word that starts a request (a question word, an auxiliary, `i`/`we`/`my`/`our`,
//!      `please`, or a directive verb below): `hello world program` keeps `hello`;
//!    - at the start, `thanks`, `thank you`, `thanks in advance`, `thank you in advance`, `many
//!      thanks`, `quick question` when followed by punctuation (`Thanks!`, `Quick question:`);
//!    - at the start, `please`, `pls`, `plz`, `kindly` when followed by punctuation or by a
//!      request-starting word;
//!    - at the start, the modal wrappers `can you`, `could you`, `would you`, `will you` (also
//!      with `u`), optionally followed by `please`/`kindly`, **only when the next word is a
//!      directive verb**: `explain describe tell write give list summarize summarise
//!      translate show help create generate make provide convert find calculate compute define
//!      compare suggest recommend rewrite fix draft outline compose check review edit proofread
//!      analyze analyse identify clarify elaborate name classify extract format debug optimize
//!      optimise refactor implement build design estimate paraphrase simplify shorten expand
//!      brainstorm solve evaluate assess prepare plan correct improve produce share update
//!      modify change add remove delete walk point recap`; the verb itself is kept, so `can you
//!      swim` keeps every word and `could you please explain X` = `explain X`;
//!    - at the start, `i was wondering if` + `you could|can|would|might` (+ `please`) + a
//!      directive verb (the wrapper goes, the verb stays);
//!    - at the start, `i would like to know`, `i'd like to know`, `i want to know`, `i wanted to
//!      know`;
//!    - at the end, `please`, `pls`, `plz`, when preceded by punctuation other than `:`, or by
//!      any word except one that mentions it (`say`, `saying`, `said`, `word`, `translate`, `spell`,
//!      `pronounce`, `mean`, `means`, `is`, `of`, `the`, `a`);
//!    - at the end, `thanks`, `thank you`, `thx`, `cheers`, `thanks in advance`, `thank you in
//!      advance`, `thanks a lot`, `thanks so much`, `thank you so much`, `thank you very much`,
//!      `many thanks`, only after `. , ! ? ;` or a line break (`how do i say thank you` and
//!      `translate: thank you` keep them).
//!
//! Nothing else is removed or reordered: content words, numbers, negations, direction words
//! (`to`, `from`, `into`), articles and question words all stay where they are, so `km to
//! miles` ≠ `miles to km` and `is it safe` ≠ `is it not safe`.
//!
//! **Layout-sensitive prompts.** If the NFKC text contains a code fence (`` ``` `` or `~~~`) or
//! a line after the first that starts with whitespace followed by text (indented code, where
//! indentation is meaning), none of the above applies except NFKC: the form is the text with
//! trailing whitespace of each line (so `\r\n` = `\n`) and leading/trailing blank lines
//! removed. Such a form contains a line break or a fence, or starts with whitespace, none of
//! which a normal form ever does, so the two kinds of form never collide.
//!
//! # Residual risks (accepted, documented)
//!
//! - Case carries meaning in a few words: `US`/`us`, `Polish`/`polish`, `March`/`march`,
//!   `May`/`may`, `Turkey`/`turkey`, `Go`/`go`, `String`/`string` in C#; the forms are equal.
//! - `?` is removed: a statement and the same words as a question (`the deploy is done.` /
//!   `the deploy is done?`) are equal.
//! - Quote marks are removed: `search for "not found"` = `search for not found`.
//! - Case-sensitive content outside quotes is folded: `fix the capitalisation: i went to paris`
//!   = `fix the capitalisation: I went to Paris` (quote it, or put it in a code block, to keep
//!   it distinct).
//! - `'s` after `it that what where when who how why there here he she` is read as `is`, so
//!   `what's changed` = `what is changed` (not `what has changed`).
//! - A digit-grouping comma in a locale where `,` is the decimal separator: `1,500` = `1500`
//!   although a German writer may mean 1.5 (`1,5` stays distinct).
//! - `can you <directive verb>` as a question of possibility (`can you convert a Roth IRA`)
//!   equals the imperative (`convert a Roth IRA`).
//! - A trailing `thank you` / `please` that is content after punctuation outside quotes (`write
//!   a reply saying no, thank you`) is removed.
//! - Conversation context is not part of the form: the caller must key L3 on the history (and
//!   model, parameters, system prompt) as well.
//!
//! The function is pure and total (no panics), allocates only the output for ASCII or
//! already-NFKC input (one extra buffer otherwise), and runs in a single pass plus a constant
//! amount of work at each end.

mod wrappers;

use std::borrow::Cow;

use wrappers::strip_wrappers;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// Separator flag: the previous token ended a clause (`. , ! ? ; … —` or a line break).
const F_BOUNDARY: u8 = 1;
/// Separator flag: the previous token ended with `:`.
const F_COLON: u8 = 2;
/// Separator flag: the next token starts with a quote.
const F_OPEN_QUOTE: u8 = 4;
/// Separator flag: the previous token ended with a quote.
const F_CLOSE_QUOTE: u8 = 8;

/// Directive verbs: a modal wrapper (`can you`, `could you`, ...) is removed only before these.
const DIRECTIVES: &[&str] = &[
    "explain",
    "describe",
    "tell",
    "write",
    "give",
    "list",
    "summarize",
    "summarise",
    "translate",
    "show",
    "help",
    "create",
    "generate",
    "make",
    "provide",
    "convert",
    "find",
    "calculate",
    "compute",
    "define",
    "compare",
    "suggest",
    "recommend",
    "rewrite",
    "fix",
    "draft",
    "outline",
    "compose",
    "check",
    "review",
    "edit",
    "proofread",
    "analyze",
    "analyse",
    "identify",
    "clarify",
    "elaborate",
    "name",
    "classify",
    "extract",
    "format",
    "debug",
    "optimize",
    "optimise",
    "refactor",
    "implement",
    "build",
    "design",
    "estimate",
    "paraphrase",
    "simplify",
    "shorten",
    "expand",
    "brainstorm",
    "solve",
    "evaluate",
    "assess",
    "prepare",
    "plan",
    "correct",
    "improve",
    "produce",
    "share",
    "update",
    "modify",
    "change",
    "add",
    "remove",
    "delete",
    "walk",
    "point",
    "recap",
];

/// Words that begin a request: a greeting or `please` directly before one of these (or before a
/// directive verb) is a wrapper even without punctuation.
const STARTERS: &[&str] = &[
    "what", "how", "why", "when", "where", "who", "whom", "whose", "which", "is", "are", "was", "were", "do", "does",
    "did", "can", "could", "would", "will", "should", "shall", "may", "might", "must", "have", "has", "i", "we", "my",
    "our", "please", "kindly",
];

/// Words before a trailing `please` that make it content (`how do i say please`).
const PLEASE_MENTIONS: &[&str] =
    &["say", "saying", "said", "word", "translate", "spell", "pronounce", "mean", "means", "is", "of", "the", "a"];

/// The canonical form of `text` for the L3 (rephrasing-equivalent) layer; see the module
/// documentation for exactly what it makes equal.
#[must_use]
pub fn canonical_prompt(text: &str) -> String {
    let normalized: Cow<'_, str> = if text.is_ascii() || is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.nfkc().collect())
    };
    if is_layout_sensitive(&normalized) {
        return layout_form(&normalized);
    }
    prose_form(&normalized)
}

/// True when indentation or a code fence makes the layout part of the meaning.
fn is_layout_sensitive(text: &str) -> bool {
    if text.contains("```") || text.contains("~~~") {
        return true;
    }
    text.split('\n').skip(1).any(|line| {
        let trimmed = line.trim_start_matches([' ', '\t']);
        trimmed.len() < line.len() && !trimmed.trim().is_empty()
    })
}

/// The form of a layout-sensitive prompt: trailing whitespace of each line (including the `\r`
/// of `\r\n`) and blank edge lines removed, nothing else touched.
fn layout_form(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0usize;
    for line in text.split('\n').map(str::trim_end) {
        if line.is_empty() {
            if !out.is_empty() {
                blank_run += 1;
            }
            continue;
        }
        if !out.is_empty() {
            for _ in 0..=blank_run {
                out.push('\n');
            }
        }
        blank_run = 0;
        out.push_str(line);
    }
    out
}

/// Characters ignored entirely (invisible).
fn is_ignorable(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Characters that end a line (and so a clause).
fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{0085}' | '\u{2028}' | '\u{2029}')
}

/// Maps look-alike characters to one representative before any other step.
fn fold_char(c: char) -> char {
    match c {
        '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{201B}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' => '"',
        '\u{2212}' | '\u{2013}' => '-',
        _ => c,
    }
}

/// The mark that closes a quote opened by `c`, if `c` opens one.
fn closing_quote(c: char) -> Option<char> {
    match c {
        '"' | '`' | '\'' => Some(c),
        '«' => Some('»'),
        '‹' => Some('›'),
        _ => None,
    }
}

/// The flags a removable edge character contributes, or `None` if it is not removable at the
/// start of a token.
fn leading_trim(c: char) -> Option<u8> {
    match c {
        '(' | '[' | '{' => Some(0),
        '"' | '\'' | '`' | '«' | '»' | '‹' | '›' => Some(F_OPEN_QUOTE),
        ',' | '!' | '?' | ';' | '¿' | '¡' | '—' | '。' | '、' => Some(F_BOUNDARY),
        ':' => Some(F_COLON),
        _ => None,
    }
}

/// The flags a removable edge character contributes, or `None` if it is not removable at the
/// end of a token.
fn trailing_trim(c: char) -> Option<u8> {
    match c {
        ')' | ']' | '}' => Some(0),
        '"' | '\'' | '`' | '«' | '»' | '‹' | '›' => Some(F_CLOSE_QUOTE),
        '.' | ',' | '!' | '?' | ';' | '¿' | '¡' | '—' | '。' | '、' => Some(F_BOUNDARY),
        ':' => Some(F_COLON),
        _ => None,
    }
}

/// The separator written between two tokens carrying `flags`: a plain space, or an ASCII
/// control byte (1..=15) that [`finish`] turns into a space.
fn separator(flags: u8) -> char {
    if flags == 0 { ' ' } else { char::from(flags & 0x0F) }
}

/// Tokenises, folds and normalises `text` (already NFKC) into `out`; wrappers are handled by
/// [`strip_wrappers`] afterwards.
struct ProseWriter {
    out: String,
    /// Flags for the separator before the next token.
    pending: u8,
    /// Flags of the separator before the first token (only the quote bit matters).
    start_flags: u8,
    /// Trailing flags of the last token written.
    end_flags: u8,
    /// Whether we are inside a token.
    in_token: bool,
    /// Whether we are still skipping removable leading characters of the current token.
    leading: bool,
    /// Byte position where the current token's separator starts (or the token, if first).
    sep_pos: usize,
    /// Byte position where the current token's text starts.
    tok_start: usize,
    /// The pending flags consumed by the current token's separator (restored if it is empty).
    consumed: u8,
    /// The closing mark of the quote we are in, if any: quoted text is kept verbatim.
    quote: Option<char>,
    /// The current token started inside a quote.
    tok_quoted: bool,
}

impl ProseWriter {
    fn new(capacity: usize) -> Self {
        Self {
            out: String::with_capacity(capacity),
            pending: 0,
            start_flags: 0,
            end_flags: 0,
            in_token: false,
            leading: true,
            sep_pos: 0,
            tok_start: 0,
            consumed: 0,
            quote: None,
            tok_quoted: false,
        }
    }

    fn push_char(&mut self, c: char) {
        if is_ignorable(c) {
            return;
        }
        if c.is_whitespace() || c.is_control() {
            self.end_token();
            if is_line_break(c) {
                self.pending |= F_BOUNDARY;
            }
            return;
        }
        let c = fold_char(c);
        if !self.in_token {
            self.in_token = true;
            self.leading = true;
        }
        if self.leading {
            match self.quote {
                None => {
                    if let Some(flags) = leading_trim(c) {
                        self.pending |= flags;
                        self.quote = closing_quote(c);
                        return;
                    }
                }
                Some(q) if c == q => {
                    // An empty quote or a closing mark standing alone.
                    self.pending |= F_CLOSE_QUOTE;
                    self.quote = None;
                    return;
                }
                Some(_) => {}
            }
            self.leading = false;
            self.tok_quoted = self.quote.is_some();
            self.sep_pos = self.out.len();
            self.consumed = self.pending;
            if self.out.is_empty() {
                self.start_flags = self.pending;
            } else {
                self.out.push(separator(self.pending));
            }
            self.pending = 0;
            self.tok_start = self.out.len();
        }
        if self.quote.is_some() {
            self.out.push(c);
        } else if c.is_ascii() {
            self.out.push(c.to_ascii_lowercase());
        } else {
            self.out.extend(c.to_lowercase());
        }
    }

    fn end_token(&mut self) {
        if !self.in_token {
            return;
        }
        self.in_token = false;
        if self.leading {
            // Only removable characters: their flags are already in `pending`.
            return;
        }
        let mut trailing = 0u8;
        if let Some(q) = self.quote {
            // Inside a quote nothing is trimmed, except the closing mark (and punctuation after
            // it) when the quote ends with this token.
            let tail = &self.out[self.tok_start..];
            let body = tail.trim_end_matches(|ch: char| ch != q && trailing_trim(ch).is_some());
            if let Some(content) = body.strip_suffix(q) {
                for ch in tail[body.len()..].chars() {
                    trailing |= trailing_trim(ch).unwrap_or(0);
                }
                trailing |= F_CLOSE_QUOTE;
                let keep = self.tok_start + content.len();
                self.out.truncate(keep);
                self.quote = None;
            }
        } else {
            while self.out.len() > self.tok_start {
                let Some(last) = self.out.chars().next_back() else { break };
                let Some(flags) = trailing_trim(last) else { break };
                trailing |= flags;
                self.out.pop();
            }
        }
        if self.out.len() == self.tok_start {
            // The token vanished: drop its separator and keep the flags for the next one.
            self.out.truncate(self.sep_pos);
            self.pending |= self.consumed | trailing;
            if self.out.is_empty() {
                self.start_flags = 0;
            }
            return;
        }
        if !self.tok_quoted {
            remove_digit_grouping(&mut self.out, self.tok_start);
            expand_contraction(&mut self.out, self.tok_start);
        }
        self.pending |= trailing & (F_BOUNDARY | F_COLON | F_CLOSE_QUOTE);
        self.end_flags = trailing;
    }

    fn finish(mut self) -> (String, u8, u8) {
        self.end_token();
        (self.out, self.start_flags, self.end_flags)
    }
}

/// Removes the commas of every exact digit-grouping run (`1,000,000`) in `out[start..]`.
fn remove_digit_grouping(out: &mut String, start: usize) {
    let token = &out.as_bytes()[start..];
    if !token.contains(&b',') {
        return;
    }
    // Find runs of [0-9,] and check each against d{1,3}(,ddd)+ ; collect comma positions of
    // the valid ones (at most a few), then remove them from the back.
    let mut commas: [usize; 8] = [0; 8];
    let mut n = 0usize;
    let mut i = 0usize;
    let mut overflow = false;
    while i < token.len() {
        let b = token[i];
        if !(b.is_ascii_digit() || b == b',') {
            i += 1;
            continue;
        }
        let run_start = i;
        while i < token.len() && (token[i].is_ascii_digit() || token[i] == b',') {
            i += 1;
        }
        let run = &token[run_start..i];
        let after_decimal_point = run_start > 0 && token[run_start - 1] == b'.';
        if !after_decimal_point && is_grouped_number(run) {
            for (k, &rb) in run.iter().enumerate() {
                if rb == b',' {
                    if n < commas.len() {
                        commas[n] = start + run_start + k;
                        n += 1;
                    } else {
                        overflow = true;
                    }
                }
            }
        }
    }
    if overflow {
        // More than eight grouping commas in one token: leave it as written (a miss at worst).
        return;
    }
    for &pos in commas[..n].iter().rev() {
        out.remove(pos);
    }
}

/// True for `d{1,3}(,ddd)+`.
fn is_grouped_number(run: &[u8]) -> bool {
    let mut groups = run.split(|&b| b == b',');
    let Some(first) = groups.next() else { return false };
    if first.is_empty() || first.len() > 3 {
        return false;
    }
    let mut count = 0usize;
    for g in groups {
        if g.len() != 3 {
            return false;
        }
        count += 1;
    }
    count > 0
}

/// Replaces the token `out[start..]` by its expansion if it is a listed contraction.
fn expand_contraction(out: &mut String, start: usize) {
    let token = &out[start..];
    let bytes = token.as_bytes();
    let plausible = bytes.contains(&b'\'') || bytes.last() == Some(&b't') || token == "cannot";
    if !plausible {
        return;
    }
    let expansion = match token {
        "isn't" | "isnt" => "is not",
        "aren't" | "arent" => "are not",
        "wasn't" | "wasnt" => "was not",
        "weren't" | "werent" => "were not",
        "don't" | "dont" => "do not",
        "doesn't" | "doesnt" => "does not",
        "didn't" | "didnt" => "did not",
        "haven't" | "havent" => "have not",
        "hasn't" | "hasnt" => "has not",
        "hadn't" => "had not",
        "won't" => "will not",
        "wouldn't" | "wouldnt" => "would not",
        "can't" | "cannot" => "can not",
        "couldn't" | "couldnt" => "could not",
        "shouldn't" | "shouldnt" => "should not",
        "mustn't" => "must not",
        "needn't" => "need not",
        "shan't" => "shall not",
        "mightn't" => "might not",
        "i'm" => "i am",
        "you're" => "you are",
        "we're" => "we are",
        "they're" => "they are",
        "i've" => "i have",
        "you've" => "you have",
        "we've" => "we have",
        "they've" => "they have",
        "could've" => "could have",
        "should've" => "should have",
        "would've" => "would have",
        "might've" => "might have",
        "must've" => "must have",
        "i'll" => "i will",
        "you'll" => "you will",
        "he'll" => "he will",
        "she'll" => "she will",
        "it'll" => "it will",
        "we'll" => "we will",
        "they'll" => "they will",
        "that'll" => "that will",
        "it's" => "it is",
        "that's" => "that is",
        "what's" => "what is",
        "where's" => "where is",
        "when's" => "when is",
        "who's" => "who is",
        "how's" => "how is",
        "why's" => "why is",
        "there's" => "there is",
        "here's" => "here is",
        "he's" => "he is",
        "she's" => "she is",
        "let's" => "let us",
        _ => return,
    };
    out.truncate(start);
    out.push_str(expansion);
}

fn prose_form(text: &str) -> String {
    let mut writer = ProseWriter::new(text.len() + 8);
    for c in text.chars() {
        writer.push_char(c);
    }
    let (out, start_flags, end_flags) = writer.finish();
    let (lo, hi) = strip_wrappers(&out, start_flags, end_flags);
    let mut bytes = out.into_bytes();
    bytes.truncate(hi);
    bytes.drain(..lo);
    for b in &mut bytes {
        if *b < 0x10 {
            *b = b' ';
        }
    }
    // Only ASCII control bytes were replaced by ASCII spaces, so this cannot fail; fall back to
    // a lossy copy rather than panic.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests;
