//! Re-reading HTML with html5ever's tokenizer (the same crate version ammonia builds its tree
//! with): the start and end tags, their attribute names, comments and doctypes of a document.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// One markup token: `<name attr…>`, `</name>`, a comment or a doctype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Markup {
    Start { name: String, attrs: Vec<String> },
    End { name: String },
    Comment,
    Doctype,
}

#[derive(Default)]
struct Collect {
    out: RefCell<Vec<Markup>>,
}

impl TokenSink for Collect {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let m = match token {
            Token::TagToken(tag) => {
                let name = tag.name.to_string();
                match tag.kind {
                    TagKind::StartTag => Markup::Start {
                        name,
                        attrs: tag.attrs.iter().map(|a| a.name.local.to_string()).collect(),
                    },
                    TagKind::EndTag => Markup::End { name },
                }
            }
            Token::CommentToken(_) => Markup::Comment,
            Token::DoctypeToken(_) => Markup::Doctype,
            _ => return TokenSinkResult::Continue,
        };
        self.out.borrow_mut().push(m);
        TokenSinkResult::Continue
    }
}

/// The markup of `html`, in document order.
pub fn markup(html: &str) -> Vec<Markup> {
    let tok = Tokenizer::new(Collect::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tok.feed(&input);
    tok.end();
    tok.sink.out.take()
}
