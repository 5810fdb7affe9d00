//! Colours and the shapes under the text.

use ab_glyph::{point, Font, FontRef, GlyphId, PxScale, ScaleFont};
use image::{Rgb, RgbImage};

use super::*;

// ----------------------------------------------------------------------------------------------
// Colours

pub(crate) struct Palette {
    pub(crate) top: [u8; 3],
    pub(crate) bottom: [u8; 3],
    pub(crate) text: [u8; 3],
    pub(crate) rule: [u8; 3],
    pub(crate) panel: [u8; 3],
}

impl Palette {
    pub(crate) fn for_name(name: &str) -> Palette {
        let h = fnv1a(name.as_bytes());
        let hue = (h % 360) as f32;
        let sat = 0.45 + ((h >> 16) % 20) as f32 / 100.0;
        let light = 0.36 + ((h >> 24) % 10) as f32 / 100.0;
        let top = hsl(hue, sat, light + 0.04);
        let bottom = hsl(hue, sat, light - 0.08);
        Palette {
            top,
            bottom,
            text: [255, 255, 255],
            rule: hsl(hue, sat * 0.6, 0.82),
            panel: hsl(hue, sat * 0.35, 0.95),
        }
    }
}

pub(super) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // Fold the high bits down so small differences in the name move the low bits too.
    h ^ (h >> 29)
}

pub(super) fn hsl(h: f32, s: f32, l: f32) -> [u8; 3] {
    let l = l.clamp(0.0, 1.0);
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s.clamp(0.0, 1.0);
    let hp = (h.rem_euclid(360.0)) / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let to = |v: f32| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [to(r), to(g), to(b)]
}

pub(crate) fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    let f = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
    [f(a[0], b[0]), f(a[1], b[1]), f(a[2], b[2])]
}

pub(super) fn paint_background(img: &mut RgbImage, p: &Palette) {
    let (w, h) = img.dimensions();
    let span = (w + h).max(1) as f32;
    for (x, y, px) in img.enumerate_pixels_mut() {
        // A soft diagonal gradient.
        let t = (x as f32 * 0.35 + y as f32) / span * 1.5;
        *px = Rgb(mix(p.top, p.bottom, t));
    }
}

pub(crate) fn fill_rect(img: &mut RgbImage, x: i64, y: i64, w: i64, h: i64, color: [u8; 3]) {
    let (iw, ih) = img.dimensions();
    for yy in y.max(0)..(y + h).min(i64::from(ih)) {
        for xx in x.max(0)..(x + w).min(i64::from(iw)) {
            img.put_pixel(xx as u32, yy as u32, Rgb(color));
        }
    }
}

/// The lower part of the description image: a light panel with the usual notice lines.
pub(super) fn paint_desc_panel(img: &mut RgbImage, font: &FontRef<'static>, p: &Palette, text_bottom: f32) {
    let (w, h) = img.dimensions();
    let (wf, hf) = (w as f32, h as f32);
    let margin = wf * 0.08;
    let pad = margin * 0.8;
    let dark = mix(p.bottom, [0, 0, 0], 0.35);
    let lines = [
        "유의사항",
        "· 상품 이미지는 연출된 것으로 실제와 다를 수 있습니다.",
        "· 유효기간 내 교환처 매장에서 사용하세요.",
        "· 쿠폰은 현금으로 교환되지 않습니다.",
        "· 매장 사정에 따라 다른 상품으로 교환될 수 있습니다.",
    ];
    let inner_w = wf - 2.0 * margin - 2.0 * pad;
    let blocks: Vec<TextBlock> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let px = if i == 0 { 22.0 } else { 16.0 };
            fit_text(font, line, inner_w, px * 2.7, px, 2)
        })
        .collect();
    let spacing = 6.0;
    let content_h: f32 = blocks.iter().map(|b| b.height() + spacing).sum::<f32>() - spacing;
    let panel_h = content_h + 2.0 * pad;
    // Centre the panel in the space below the text, but never off the card.
    let free_top = text_bottom + hf * 0.05;
    let top = (free_top + ((hf - margin - free_top) - panel_h).max(0.0) / 2.0)
        .min(hf - margin - panel_h)
        .max(0.0);
    fill_rect(
        img,
        margin as i64,
        top as i64,
        (wf - 2.0 * margin) as i64,
        panel_h as i64,
        p.panel,
    );
    let mut y = top + pad;
    for block in &blocks {
        draw_block_left(img, font, block, margin + pad, y, dark);
        y += block.height() + spacing;
    }
}

// ----------------------------------------------------------------------------------------------
// Drawing

/// Draws a block's lines, each centred on the image.
pub(crate) fn draw_block(img: &mut RgbImage, font: &FontRef<'static>, block: &TextBlock, top: f32, color: [u8; 3]) {
    let w = img.width() as f32;
    draw_lines(img, font, block, top, color, |line| ((w - text_width(font, block.px, line)) / 2.0).max(0.0));
}

/// Draws a block's lines, each starting at `left`.
pub(crate) fn draw_block_left(
    img: &mut RgbImage,
    font: &FontRef<'static>,
    block: &TextBlock,
    left: f32,
    top: f32,
    color: [u8; 3],
) {
    draw_lines(img, font, block, top, color, |_| left);
}

fn draw_lines(
    img: &mut RgbImage,
    font: &FontRef<'static>,
    block: &TextBlock,
    top: f32,
    color: [u8; 3],
    x_of: impl Fn(&str) -> f32,
) {
    for (i, line) in block.lines.iter().enumerate() {
        draw_line(img, font, block, line, x_of(line), top + block.line_height * i as f32, color);
    }
}

/// Draws one line whose line box starts at (`x`, `top`), blending `color` by glyph coverage.
pub(super) fn draw_line(
    img: &mut RgbImage,
    font: &FontRef<'static>,
    block: &TextBlock,
    line: &str,
    x: f32,
    top: f32,
    color: [u8; 3],
) {
    let sf = font.as_scaled(PxScale::from(block.px));
    // Centre the font's ascent+descent box in the line box.
    let glyph_h = sf.ascent() - sf.descent();
    let baseline = top + (block.line_height - glyph_h) / 2.0 + sf.ascent();
    let (iw, ih) = img.dimensions();
    let mut caret = x;
    let mut prev: Option<GlyphId> = None;
    for c in line.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
            caret += sf.kern(p, id);
        }
        let glyph = id.with_scale_and_position(block.px, point(caret, baseline));
        caret += sf.h_advance(id);
        prev = Some(id);
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
        outlined.draw(|gx, gy, coverage| {
            let px = bounds.min.x as i64 + i64::from(gx);
            let py = bounds.min.y as i64 + i64::from(gy);
            if px < 0 || py < 0 || px >= i64::from(iw) || py >= i64::from(ih) {
                return;
            }
            let pixel = img.get_pixel_mut(px as u32, py as u32);
            pixel.0 = mix(pixel.0, color, coverage);
        });
    }
}

