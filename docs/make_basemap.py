"""Build ``model/data/caspian_region.json``, the map outline the corridor map draws.

    python docs/make_basemap.py path/to/countries-50m.json

The input is ``countries-50m.json`` of the npm package ``world-atlas`` 2.0.2
(ISC; TopoJSON of Natural Earth 4.1.0's 1:50m admin-0 countries, which are in
the public domain: https://www.naturalearthdata.com/about/terms-of-use/). Run
once by a maintainer; the product never downloads anything at run time.

Countries are land; whatever lies between them inside the box (the Caspian,
Black and Mediterranean seas) is water. Each ring is clamped to the box, thinned
to points at least ``STEP_DEG`` apart, and rounded to 0.01 degrees (about 1 km),
which is finer than the map is ever drawn.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

BOX = (25.0, 33.0, 85.0, 55.0)  # lon_min, lat_min, lon_max, lat_max: Black Sea to the Chinese border
STEP_DEG = 0.04
OUT = Path(__file__).resolve().parent.parent / "model" / "data" / "caspian_region.json"


def _arcs(topo: dict) -> list[list[tuple[float, float]]]:
    """Decode TopoJSON's quantised, delta-encoded arcs into lon/lat points."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    out = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            pts.append((x * sx + tx, y * sy + ty))
        out.append(pts)
    return out


def _ring(indices: list[int], arcs: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    pts: list[tuple[float, float]] = []
    for i in indices:
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        pts.extend(a if not pts else a[1:])
    return pts


def _clip(ring: list[tuple[float, float]]) -> list[list[float]]:
    lo_x, lo_y, hi_x, hi_y = BOX
    out: list[list[float]] = []
    for x, y in ring:
        p = [round(min(max(x, lo_x), hi_x), 2), round(min(max(y, lo_y), hi_y), 2)]
        if not out or abs(p[0] - out[-1][0]) + abs(p[1] - out[-1][1]) >= STEP_DEG:
            out.append(p)
    return out


def _inside(ring: list[tuple[float, float]]) -> bool:
    lo_x, lo_y, hi_x, hi_y = BOX
    return any(lo_x <= x <= hi_x and lo_y <= y <= hi_y for x, y in ring)


def main(src: str) -> None:
    topo = json.loads(Path(src).read_text(encoding="utf-8"))
    arcs = _arcs(topo)
    countries = []
    for g in topo["objects"]["countries"]["geometries"]:
        polys = g["arcs"] if g["type"] == "MultiPolygon" else [g["arcs"]] if g["type"] == "Polygon" else []
        rings = [_ring(r, arcs) for poly in polys for r in poly[:1]]  # outer rings: lakes stay land
        rings = [_clip(r) for r in rings if _inside(r)]
        rings = [r for r in rings if len(r) >= 4]
        if rings:
            countries.append({"name": g["properties"]["name"], "rings": rings})
    doc = {"source": "Natural Earth 4.1.0 admin-0 countries, 1:50m (public domain), via world-atlas 2.0.2 "
                     "(ISC); built by docs/make_basemap.py",
           "box_lon_lat": list(BOX), "countries": countries}
    OUT.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    print(f"{OUT}: {len(countries)} countries, {sum(len(r) for c in countries for r in c['rings'])} points, "
          f"{OUT.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main(sys.argv[1])
