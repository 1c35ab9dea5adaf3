// Readable thumbnails: a window onto the image at half its own resolution, placed on the hit —
// the centre of a viewport (planned around its hits), the left end of a table row (the key
// column, with the header above). A click opens the whole image.
import { t } from "./i18n.js";

const WIN_W = 360;
const WIN_H = 190;
const SCALE = 0.5;

function isRow(im) {
  return /строка /.test(im.description || "") || (im.width && im.height && im.width > 3 * im.height);
}

export function thumb(im, onOpen) {
  const label = (im.description || im.image_type || "").split(":")[0];
  const img = document.createElement("img");
  img.src = im.url;
  img.alt = t("msg.image_alt", { label });
  img.loading = "lazy";
  img.className = "zoom-image";
  const win = document.createElement("div");
  win.className = "thumb-window";
  win.append(img);
  const w = (im.width || 0) * SCALE;
  const h = (im.height || 0) * SCALE;
  if (w > 0 && h > 0) {
    img.style.width = `${w}px`;
    img.style.height = `${h}px`;
    const row = isRow(im);
    const left = row ? 0 : Math.max(0, (w - WIN_W) / 2);
    const top = row ? Math.max(0, h - WIN_H) : Math.max(0, (h - WIN_H) / 2);
    img.style.transform = `translate(${-Math.min(left, Math.max(0, w - WIN_W))}px, ${-top}px)`;
    win.style.width = `${Math.min(WIN_W, w)}px`;
    win.style.height = `${Math.min(WIN_H, h)}px`;
  }
  const fig = document.createElement("figure");
  fig.className = "thumb";
  fig.title = im.description || "";
  fig.addEventListener("click", () => onOpen(im));
  const cap = document.createElement("figcaption");
  cap.textContent = im.description || label;
  fig.append(win, cap);
  return fig;
}
