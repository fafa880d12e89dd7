#!/usr/bin/python3
"""pngcheck.py — what a screenshot of a monitor report shows, with the standard library only.

    pngcheck.py SHOT.png MIN_COLOURS [RRGGBB:MIN_BARS ...]

Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) with zlib and the
five standard row filters, then prints one line per check, "PASS what" or "FAIL what: why":
  - the image is not blank: at least MIN_COLOURS distinct colours;
  - each colour RRGGBB (within 3 of each channel: anti-aliasing keeps the bars' insides exact)
    fills at least MIN_BARS separate runs of pixel columns on one row of the image, that is
    bars side by side rather than a legend swatch or two.
No golden image: fonts and anti-aliasing differ from machine to machine, bars do not.
"""
import struct
import sys
import zlib


def decode(path):
    """(width, height, channels, rows): rows is a list of bytes objects, channels 3 or 4."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if ihdr is None:
        raise ValueError("no IHDR chunk")
    width, height, depth, ctype, _comp, _filt, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace != 0:
        raise ValueError("unsupported PNG: depth %d, colour type %d, interlace %d" % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        off = y * (stride + 1)
        ftype, line = raw[off], bytearray(raw[off + 1:off + 1 + stride])
        if ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif ftype == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 0xFF
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        elif ftype != 0:
            raise ValueError("row %d: unknown filter type %d" % (y, ftype))
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def main():
    path, min_colours, wanted = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    try:
        width, height, bpp, rows = decode(path)
    except (OSError, ValueError, zlib.error) as e:
        print("FAIL decoding %s: %s" % (path, e))
        return
    print("PASS %s decodes: %dx%d, %d channels" % (path, width, height, bpp))
    colours = set()
    for row in rows[::2]:
        for x in range(0, width * bpp, bpp):
            colours.add(row[x:x + 3])
    if len(colours) >= min_colours:
        print("PASS not blank: %d distinct colours (at least %d)" % (len(colours), min_colours))
    else:
        print("FAIL not blank: %d distinct colours, fewer than %d" % (len(colours), min_colours))
    for spec in wanted:
        hexrgb, min_bars = spec.split(":")
        rgb = tuple(int(hexrgb[i:i + 2], 16) for i in (0, 2, 4))
        best, best_y, ncols = 0, 0, set()
        for y, row in enumerate(rows):
            runs, inside = 0, False
            for x in range(width):
                o = x * bpp
                hit = (abs(row[o] - rgb[0]) <= 3 and abs(row[o + 1] - rgb[1]) <= 3
                       and abs(row[o + 2] - rgb[2]) <= 3)
                if hit:
                    ncols.add(x)
                    runs += not inside
                inside = hit
            if runs > best:
                best, best_y = runs, y
        runs, ncols = best, len(ncols)
        if runs >= int(min_bars):
            print("PASS colour #%s in %d separate column runs (bars) on row %d, %d columns in all" %
                  (hexrgb, runs, best_y, ncols))
        else:
            print("FAIL colour #%s: %d separate column runs, fewer than %s (%d columns)" %
                  (hexrgb, runs, min_bars, ncols))


if __name__ == "__main__":
    main()
