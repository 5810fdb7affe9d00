//! Text layout: wrapping and truncating Hangul and Latin text to fit a box.

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont};

// ----------------------------------------------------------------------------------------------
// Text layout

pub(crate) struct TextBlock {
    pub(crate) lines: Vec<String>,
    pub(crate) px: f32,
    pub(crate) line_height: f32,
}

impl TextBlock {
    pub(crate) fn height(&self) -> f32 {
        self.line_height * self.lines.len() as f32
    }
}

pub(crate) fn text_width(font: &FontRef<'static>, px: f32, text: &str) -> f32 {
    let sf = font.as_scaled(PxScale::from(px));
    let mut width = 0.0;
    let mut prev: Option<GlyphId> = None;
    for c in text.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
            width += sf.kern(p, id);
        }
        width += sf.h_advance(id);
        prev = Some(id);
    }
    width
}

/// Greedy word wrap at `px`. A word wider than the line is broken between characters (Korean
/// breaks between syllables) when `break_words`, else the wrap fails with `None`.
pub(super) fn wrap(
    font: &FontRef<'static>,
    px: f32,
    text: &str,
    max_w: f32,
    break_words: bool,
) -> Option<Vec<String>> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if text_width(font, px, &candidate) <= max_w {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        if text_width(font, px, word) <= max_w {
            current = word.to_owned();
            continue;
        }
        if !break_words {
            return None;
        }
        for c in word.chars() {
            let mut next = current.clone();
            next.push(c);
            if !current.is_empty() && text_width(font, px, &next) > max_w {
                lines.push(std::mem::replace(&mut current, c.to_string()));
            } else {
                current = next;
            }
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    Some(lines)
}

/// The largest size (from `start_px` down) at which `text` fits `max_lines` lines within
/// `max_w` × `max_h`. Words stay whole while the size is at least 60 % of `start_px`; below
/// that they may break. At the smallest size the overflow is cut with an ellipsis.
pub(crate) fn fit_text(
    font: &FontRef<'static>,
    text: &str,
    max_w: f32,
    max_h: f32,
    start_px: f32,
    max_lines: usize,
) -> TextBlock {
    let min_px = (start_px * 0.4).clamp(8.0, 12.0).min(start_px);
    let whole_words_px = start_px * 0.6;
    let max_lines = max_lines.max(1);
    let fits = |lines: &[String], line_height: f32| {
        lines.len() <= max_lines && line_height * lines.len() as f32 <= max_h.max(line_height)
    };
    // First pass: shrink with whole words only.
    let mut px = start_px.max(min_px);
    while px >= whole_words_px {
        if let Some(lines) = wrap(font, px, text, max_w, false) {
            if fits(&lines, px * 1.3) {
                return TextBlock {
                    lines,
                    px,
                    line_height: px * 1.3,
                };
            }
        }
        px *= 0.92;
    }
    // Second pass: words may break.
    let mut px = start_px.max(min_px);
    loop {
        let line_height = px * 1.3;
        let lines = wrap(font, px, text, max_w, true).unwrap_or_default();
        if fits(&lines, line_height) || px <= min_px {
            let lines = if lines.len() > max_lines {
                truncate(font, px, lines, max_lines, max_w)
            } else {
                lines
            };
            return TextBlock {
                lines,
                px,
                line_height,
            };
        }
        px = (px * 0.92).max(min_px);
    }
}

pub(super) fn truncate(
    font: &FontRef<'static>,
    px: f32,
    mut lines: Vec<String>,
    n: usize,
    max_w: f32,
) -> Vec<String> {
    lines.truncate(n);
    if let Some(last) = lines.last_mut() {
        loop {
            let candidate = format!("{}…", last.trim_end());
            if text_width(font, px, &candidate) <= max_w || last.is_empty() {
                *last = candidate;
                break;
            }
            last.pop();
        }
    }
    lines
}

