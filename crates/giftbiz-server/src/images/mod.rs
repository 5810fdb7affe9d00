//! Images the platform renders itself: goods and brand pictures for catalog entries whose image
//! URL is `None` (the demo catalog, and imported goods without pictures).
//!
//! Each picture is a flat colour card (the colour comes from a hash of the title, so every brand
//! gets its own) with the title — the brand name — in Hangul and, for goods, the goods name as a
//! second block below it. Text is drawn with the embedded NanumSquare Regular (SIL OFL 1.1, see
//! `assets/fonts/LICENSE-OFL.txt`), which covers all 11,172 precomposed Hangul syllables and
//! ASCII, so no text shaping is needed.
//!
//! Rendering is CPU work of a few milliseconds; [`ImageCache`] keeps the PNG bytes so a picture
//! is rendered once per subject and kind. Callers on an async runtime should render a cache miss
//! in `spawn_blocking`.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use ab_glyph::FontRef;
use bytes::Bytes;
use image::{ImageFormat, RgbImage};

/// NanumSquare Regular 1.000 (NAVER Corporation, SIL Open Font License 1.1).
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/NanumSquareR.ttf");

/// The embedded Hangul font, parsed once.
pub fn font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).expect("the embedded font parses"))
}

/// Which picture, and so which size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageKind {
    /// `goodsImgS`, 250×250.
    GoodsSmall,
    /// `goodsImgB`, 500×500.
    GoodsBig,
    /// `goodsDescImgWeb`, 500×800.
    GoodsDesc,
    /// `mmsGoodsImg`, 250×250.
    GoodsMms,
    /// `brandIConImg` / `brandIconImg`, 120×120.
    BrandIcon,
    /// `brandBannerImg`, 600×200.
    BrandBanner,
    /// `mmsThumImg`, 100×100.
    BrandThumb,
}

impl ImageKind {
    pub const ALL: [ImageKind; 7] = [
        ImageKind::GoodsSmall,
        ImageKind::GoodsBig,
        ImageKind::GoodsDesc,
        ImageKind::GoodsMms,
        ImageKind::BrandIcon,
        ImageKind::BrandBanner,
        ImageKind::BrandThumb,
    ];

    /// A goods image kind from its URL slug: `s`, `b`, `desc`, `mms`.
    pub fn parse_goods(s: &str) -> Option<ImageKind> {
        match s {
            "s" => Some(ImageKind::GoodsSmall),
            "b" => Some(ImageKind::GoodsBig),
            "desc" => Some(ImageKind::GoodsDesc),
            "mms" => Some(ImageKind::GoodsMms),
            _ => None,
        }
    }

    /// A brand image kind from its URL slug: `icon`, `banner`, `thumb`.
    pub fn parse_brand(s: &str) -> Option<ImageKind> {
        match s {
            "icon" => Some(ImageKind::BrandIcon),
            "banner" => Some(ImageKind::BrandBanner),
            "thumb" => Some(ImageKind::BrandThumb),
            _ => None,
        }
    }

    /// The URL slug, the inverse of [`parse_goods`](Self::parse_goods) /
    /// [`parse_brand`](Self::parse_brand).
    pub fn slug(self) -> &'static str {
        match self {
            ImageKind::GoodsSmall => "s",
            ImageKind::GoodsBig => "b",
            ImageKind::GoodsDesc => "desc",
            ImageKind::GoodsMms => "mms",
            ImageKind::BrandIcon => "icon",
            ImageKind::BrandBanner => "banner",
            ImageKind::BrandThumb => "thumb",
        }
    }

    /// Width and height in pixels.
    pub fn size(self) -> (u32, u32) {
        match self {
            ImageKind::GoodsSmall | ImageKind::GoodsMms => (250, 250),
            ImageKind::GoodsBig => (500, 500),
            ImageKind::GoodsDesc => (500, 800),
            ImageKind::BrandIcon => (120, 120),
            ImageKind::BrandBanner => (600, 200),
            ImageKind::BrandThumb => (100, 100),
        }
    }

    pub fn is_goods(self) -> bool {
        matches!(
            self,
            ImageKind::GoodsSmall
                | ImageKind::GoodsBig
                | ImageKind::GoodsDesc
                | ImageKind::GoodsMms
        )
    }
}

/// Most entries the cache holds; past it an arbitrary entry is evicted per insert.
pub const CACHE_CAPACITY: usize = 4096;

struct Entry {
    title: String,
    subtitle: Option<String>,
    png: Bytes,
}

/// Rendered PNGs by subject and kind. Thread-safe and bounded.
pub struct ImageCache {
    entries: Mutex<HashMap<(String, ImageKind), Entry>>,
    renders: AtomicU64,
    capacity: usize,
}

impl Default for ImageCache {
    fn default() -> Self {
        ImageCache::new()
    }
}

impl ImageCache {
    pub fn new() -> ImageCache {
        ImageCache::with_capacity(CACHE_CAPACITY)
    }

    pub fn with_capacity(capacity: usize) -> ImageCache {
        ImageCache {
            entries: Mutex::new(HashMap::new()),
            renders: AtomicU64::new(0),
            capacity: capacity.max(1),
        }
    }

    /// The PNG for `key` (which identifies the subject, e.g. `goods:G00000280811`) and `kind`.
    /// Renders on the first call, then serves the cached bytes. Should the title or subtitle of
    /// a key change (a catalog re-import), the picture is rendered again.
    pub fn png(&self, key: &str, kind: ImageKind, title: &str, subtitle: Option<&str>) -> Bytes {
        if let Some(png) = self.cached(key, kind, title, subtitle) {
            return png;
        }
        let map_key = (key.to_owned(), kind);
        // Render outside the lock so one slow render does not hold up every other request.
        let png = Bytes::from(render_png(kind, title, subtitle));
        self.renders.fetch_add(1, Ordering::Relaxed);
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&map_key) {
            if let Some(victim) = entries.keys().next().cloned() {
                entries.remove(&victim);
            }
        }
        entries.insert(
            map_key,
            Entry {
                title: title.to_owned(),
                subtitle: subtitle.map(str::to_owned),
                png: png.clone(),
            },
        );
        png
    }

    /// The PNG for `key` and `kind` if it is cached for this title and subtitle.
    pub fn cached(&self, key: &str, kind: ImageKind, title: &str, subtitle: Option<&str>) -> Option<Bytes> {
        let entries = self.lock();
        let e = entries.get(&(key.to_owned(), kind))?;
        (e.title == title && e.subtitle.as_deref() == subtitle).then(|| e.png.clone())
    }

    /// How many renders this cache has done.
    pub fn renders(&self) -> u64 {
        self.renders.load(Ordering::Relaxed)
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, ImageKind), Entry>> {
        // A panic while holding the lock cannot leave the map inconsistent; keep serving.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Renders one picture as PNG bytes.
pub fn render_png(kind: ImageKind, title: &str, subtitle: Option<&str>) -> Vec<u8> {
    let img = render(kind, title, subtitle);
    let mut out = Cursor::new(Vec::with_capacity(16 * 1024));
    img.write_to(&mut out, ImageFormat::Png)
        .expect("PNG encoding into memory cannot fail");
    out.into_inner()
}

/// Renders one picture.
pub fn render(kind: ImageKind, title: &str, subtitle: Option<&str>) -> RgbImage {
    let (w, h) = kind.size();
    let title = title.trim();
    let subtitle = subtitle.map(str::trim).filter(|s| !s.is_empty());
    let palette = Palette::for_name(title);

    let mut img = RgbImage::new(w, h);
    paint_background(&mut img, &palette);

    let font = font();
    let (wf, hf) = (w as f32, h as f32);
    let margin = (wf.min(hf) * 0.08).max(6.0);
    let max_w = wf - 2.0 * margin;

    // Title size caps and the share of the height each block may take.
    let (title_px, title_lines, title_share, sub_px, sub_lines, sub_share): (
        f32,
        usize,
        f32,
        f32,
        usize,
        f32,
    ) = match kind {
        ImageKind::BrandBanner => (hf * 0.32, 1, 0.55, hf * 0.15, 2, 0.30),
        ImageKind::BrandIcon | ImageKind::BrandThumb => (hf * 0.26, 2, 0.80, hf * 0.11, 2, 0.25),
        ImageKind::GoodsDesc => (wf * 0.11, 2, 0.22, wf * 0.075, 4, 0.30),
        ImageKind::GoodsSmall | ImageKind::GoodsBig | ImageKind::GoodsMms => {
            (wf * 0.14, 2, 0.34, wf * 0.085, 3, 0.36)
        }
    };
    let (title_share, title_lines) = if subtitle.is_none() {
        (title_share.max(0.6), title_lines.max(2))
    } else {
        (title_share, title_lines)
    };

    let title_block = fit_text(font, title, max_w, hf * title_share, title_px, title_lines);
    let sub_block = subtitle.map(|s| fit_text(font, s, max_w, hf * sub_share, sub_px, sub_lines));

    // A thin rule between the two blocks.
    let gap = sub_block
        .as_ref()
        .map_or(0.0, |b| (b.line_height * 0.9).max(8.0));
    let total = title_block.height() + gap + sub_block.as_ref().map_or(0.0, |b| b.height());
    let mut y = if kind == ImageKind::GoodsDesc {
        // The description image carries its text in the upper part, like a product page header.
        hf * 0.12
    } else {
        ((hf - total) / 2.0).max(0.0)
    };

    draw_block(&mut img, font, &title_block, y, palette.text);
    y += title_block.height();
    if let Some(sub) = &sub_block {
        let rule_y = (y + gap / 2.0).round() as i64;
        let rule_w = (wf * 0.18).min(60.0);
        fill_rect(
            &mut img,
            ((wf - rule_w) / 2.0) as i64,
            rule_y - 1,
            rule_w as i64,
            2,
            palette.rule,
        );
        y += gap;
        draw_block(&mut img, font, sub, y, palette.text);
    }

    if kind == ImageKind::GoodsDesc {
        paint_desc_panel(
            &mut img,
            font,
            &palette,
            y + sub_block.as_ref().map_or(0.0, |b| b.height()),
        );
    }
    img
}

mod paint;
mod text;

pub(crate) use paint::*;
pub(crate) use text::*;

#[cfg(test)]
mod tests {
    use ab_glyph::{Font, GlyphId};

    use super::*;

    fn decode(png: &[u8]) -> image::RgbaImage {
        image::load_from_memory(png).expect("a PNG").to_rgba8()
    }

    #[test]
    fn the_font_has_hangul_glyphs() {
        let f = font();
        for c in "스타벅스투썸플레이스광동비타뷁똠".chars() {
            assert_ne!(f.glyph_id(c), GlyphId(0), "no glyph for {c}");
        }
        assert_ne!(f.glyph_id('A'), GlyphId(0));
        assert_ne!(f.glyph_id('…'), GlyphId(0));
    }

    #[test]
    fn every_kind_decodes_to_its_size() {
        for kind in ImageKind::ALL {
            let sub = kind.is_goods().then_some("카페 아메리카노 T");
            let img = decode(&render_png(kind, "스타벅스", sub));
            assert_eq!(img.dimensions(), kind.size(), "{kind:?}");
        }
    }

    #[test]
    fn slugs_round_trip() {
        for kind in ImageKind::ALL {
            let parsed = if kind.is_goods() {
                ImageKind::parse_goods(kind.slug())
            } else {
                ImageKind::parse_brand(kind.slug())
            };
            assert_eq!(parsed, Some(kind));
        }
        assert_eq!(ImageKind::parse_goods("icon"), None);
        assert_eq!(ImageKind::parse_brand("s"), None);
        assert_eq!(ImageKind::parse_goods(""), None);
    }

    /// Pixels that are (nearly) white are text: the background never gets that light.
    fn text_pixels(img: &image::RgbaImage) -> usize {
        img.pixels()
            .filter(|p| p[0] > 230 && p[1] > 230 && p[2] > 230)
            .count()
    }

    #[test]
    fn hangul_text_is_drawn() {
        let img = decode(&render_png(ImageKind::BrandBanner, "스타벅스", None));
        let n = text_pixels(&img);
        assert!(n > 500, "only {n} text pixels");
        // And the same card without text has none.
        let mut blank = RgbImage::new(600, 200);
        paint_background(&mut blank, &Palette::for_name("스타벅스"));
        assert_eq!(
            blank
                .pixels()
                .filter(|p| p[0] > 230 && p[1] > 230 && p[2] > 230)
                .count(),
            0
        );
    }

    #[test]
    fn goods_images_draw_both_lines_and_stay_inside() {
        let long =
            "스트로베리 초콜릿 생크림 케이크 1호 + 아메리카노 R 2잔 기프트 세트 스페셜 에디션";
        for kind in [
            ImageKind::GoodsSmall,
            ImageKind::GoodsBig,
            ImageKind::GoodsDesc,
            ImageKind::GoodsMms,
        ] {
            let with = text_pixels(&decode(&render_png(kind, "투썸플레이스", Some(long))));
            let without = text_pixels(&decode(&render_png(kind, "투썸플레이스", None)));
            assert!(with > 0 && without > 0, "{kind:?}");
        }
        // Very long titles are shrunk / cut, never a panic.
        let title = "가".repeat(300);
        for kind in ImageKind::ALL {
            let img = decode(&render_png(kind, &title, Some(&title)));
            assert_eq!(img.dimensions(), kind.size());
        }
        let _ = render_png(ImageKind::BrandThumb, "", Some(""));
    }

    #[test]
    fn different_brands_get_different_colours() {
        let a = render(ImageKind::BrandThumb, "스타벅스", None);
        let b = render(ImageKind::BrandThumb, "투썸플레이스", None);
        assert_ne!(a.get_pixel(1, 1), b.get_pixel(1, 1));
    }

    #[test]
    fn the_cache_renders_once() {
        let cache = ImageCache::new();
        let a = cache.png(
            "goods:G00000280811",
            ImageKind::GoodsSmall,
            "세븐일레븐",
            Some("광동)비타500 100ml 병"),
        );
        let b = cache.png(
            "goods:G00000280811",
            ImageKind::GoodsSmall,
            "세븐일레븐",
            Some("광동)비타500 100ml 병"),
        );
        assert_eq!(a, b);
        assert_eq!(cache.renders(), 1);
        // Another kind of the same subject is another picture.
        cache.png(
            "goods:G00000280811",
            ImageKind::GoodsBig,
            "세븐일레븐",
            Some("광동)비타500 100ml 병"),
        );
        assert_eq!(cache.renders(), 2);
        // A renamed subject is rendered again.
        cache.png(
            "goods:G00000280811",
            ImageKind::GoodsSmall,
            "세븐일레븐",
            Some("광동)비타500 180ml 병"),
        );
        assert_eq!(cache.renders(), 3);
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = ImageCache::with_capacity(3);
        for i in 0..10 {
            cache.png(
                &format!("brand:BR{i:05}"),
                ImageKind::BrandThumb,
                "CU",
                None,
            );
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.renders(), 10);
    }
}
