"""Sun and viewing angles of a Level-1C product, read from its tile metadata (MTD_TL.xml)."""

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidProductError
from .bands import L1C_BANDS
from .product import read_xml


@dataclass(frozen=True)
class SunView:
    """Sun and view directions at one place, in degrees; azimuths clockwise from north.

    sun_azimuth points from the ground towards the sun, view_azimuth from the ground towards
    the satellite (as in the tile metadata).
    """

    sun_zenith: float
    sun_azimuth: float
    view_zenith: float
    view_azimuth: float


def horizontal(zenith: float, azimuth: float) -> 'tuple[float, float]':
    """(east, north) of the direction `azimuth` (degrees), scaled by tan(zenith)."""
    scale = math.tan(math.radians(zenith))
    return scale * math.sin(math.radians(azimuth)), scale * math.cos(math.radians(azimuth))


def _from_horizontal(east, north):
    """(zenith, azimuth) in degrees of a direction given as tan(zenith) times its unit vector."""
    return (math.degrees(math.atan(math.hypot(east, north))),
            math.degrees(math.atan2(east, north)) % 360.0)


@dataclass
class TileAngles:
    """The angle grids of one tile (nodes every 5 km) and their means, as its metadata gives.

    Attributes:
        epsg: the tile's UTM zone.
        origin: (x, y) of the first grid node, the tile's upper-left corner.
        step: (column step, row step) in metres, both positive.
        sun: (east, north) grids of the sun direction as tan(zenith) times its unit vector
            (a vector, so that azimuths average across north).
        view: {band: (east, north) grids}: the band's view direction in the same form,
            averaged over the detectors that see the node (NaN where none does). Averaging
            vectors matters near nadir, where adjacent detectors look from opposite sides.
        mean_sun: (zenith, azimuth) of Mean_Sun_Angle.
        mean_view: {band: (zenith, azimuth)} of Mean_Viewing_Incidence_Angle_List.

    """

    epsg: int
    origin: tuple
    step: tuple
    sun: tuple
    view: dict = field(default_factory=dict)
    mean_sun: tuple = (math.nan, math.nan)
    mean_view: dict = field(default_factory=dict)

    def contains(self, x, y):
        """Whether (x, y) lies within the tile's grid of nodes."""
        rows, cols = self.sun[0].shape
        col, row = self._node(x, y)
        return 0 <= col <= cols - 1 and 0 <= row <= rows - 1

    def at(self, x, y, bands=L1C_BANDS):
        """SunView at map coordinates (x, y), the view averaged as vectors over `bands`.

        Bilinear between the 5 km nodes; a band's view falls back to the nearest node with
        a value, then to the band's mean angle.
        """
        col, row = self._node(x, y)
        sun = _from_horizontal(*(_interpolate(grid, col, row) for grid in self.sun))
        view = np.mean([self._view_vector(band, col, row) for band in bands], axis=0)
        return SunView(*sun, *_from_horizontal(*view))

    def _node(self, x, y):
        return (x - self.origin[0]) / self.step[0], (self.origin[1] - y) / self.step[1]

    def _view_vector(self, band, col, row):
        value = tuple(_interpolate(grid, col, row) for grid in self.view[band])
        if all(math.isfinite(v) for v in value):
            return value
        return horizontal(*self.mean_view[band])


@dataclass
class ProductAngles:
    """The angles of every tile of a product in one UTM zone."""

    tiles: list

    def at(self, x, y):
        """SunView at (x, y) from the first tile whose grid holds the point (else the first)."""
        tile = next((t for t in self.tiles if t.contains(x, y)), self.tiles[0])
        return tile.at(x, y)


def product_angles(product, epsg: int) -> 'ProductAngles':
    """The ProductAngles of `product`'s tiles in EPSG:`epsg`.

    Raises:
        InvalidProductError: if the product lists no tile metadata in that zone (band files
            given without their SAFE).

    """
    paths = product.tile_metadata.get(epsg, [])
    if not paths:
        raise InvalidProductError(
            f'{product.product_id or product.source} has no tile metadata (MTD_TL.xml) in '
            f'EPSG:{epsg}, so its sun and view angles are unknown; give the SAFE folder or zip')
    return ProductAngles([read_tile_angles(path) for path in paths])


def _interpolate(grid, col, row):
    """Bilinear value of `grid` at fractional node (col, row), ignoring NaN nodes.

    Falls back to the nearest finite node when all four neighbours are NaN; NaN if the grid
    has no finite value.
    """
    rows, cols = grid.shape
    col, row = min(max(col, 0.0), cols - 1.0), min(max(row, 0.0), rows - 1.0)
    c0, r0 = min(int(col), cols - 2), min(int(row), rows - 2)
    fc, fr = col - c0, row - r0
    corners = grid[r0:r0 + 2, c0:c0 + 2]
    weights = np.array([[(1 - fr) * (1 - fc), (1 - fr) * fc], [fr * (1 - fc), fr * fc]])
    finite = np.isfinite(corners)
    if weights[finite].sum() > 0:
        return float((corners[finite] * weights[finite]).sum() / weights[finite].sum())
    nodes = np.argwhere(np.isfinite(grid))
    if not len(nodes):
        return math.nan
    nearest = nodes[np.argmin((nodes[:, 0] - row) ** 2 + (nodes[:, 1] - col) ** 2)]
    return float(grid[tuple(nearest)])


def read_tile_angles(path: str) -> 'TileAngles':
    """Read the Tile_Angles of a tile metadata file (plain path or /vsizip/).

    The compact format's MTD_TL.xml and the 2015-2016 format's S2A_OPER_MTD_L1C_TL_*.xml
    share the Geometric_Info layout read here.

    Raises:
        InvalidProductError: if the file is unreadable or lacks the sun angle grid.

    """
    root = read_xml(path, 'tile metadata')
    geocoding, angles = _first(root, 'Tile_Geocoding'), _first(root, 'Tile_Angles')
    sun = _first(angles, 'Sun_Angles_Grid') if angles is not None else None
    if geocoding is None or sun is None:
        raise InvalidProductError(f'{path} has no Tile_Angles/Sun_Angles_Grid; the product is '
                                  f'damaged or not a Level-1C tile: download it again')
    position = _first(geocoding, 'Geoposition')
    zenith, step = _grid(_first(sun, 'Zenith'))
    azimuth, _step = _grid(_first(sun, 'Azimuth'))
    tile = TileAngles(int(_text(geocoding, 'HORIZONTAL_CS_CODE').split(':')[1]),
                      (float(_text(position, 'ULX')), float(_text(position, 'ULY'))), step,
                      _vector_grids(zenith, azimuth))
    tile.mean_sun = _zenith_azimuth(_first(angles, 'Mean_Sun_Angle'))
    tile.mean_view = {L1C_BANDS[int(e.get('bandId'))]: _zenith_azimuth(e)
                      for e in _all(angles, 'Mean_Viewing_Incidence_Angle')}
    tile.view = _view_vectors(angles, zenith.shape)
    return tile


def _zenith_azimuth(element):
    return float(_text(element, 'ZENITH_ANGLE')), float(_text(element, 'AZIMUTH_ANGLE'))


def _vector_grids(zenith, azimuth):
    """(east, north) grids of tan(zenith) times the unit vector of `azimuth` (degrees)."""
    scale = np.tan(np.radians(zenith))
    return scale * np.sin(np.radians(azimuth)), scale * np.cos(np.radians(azimuth))


def _view_vectors(angles, shape):
    """{band: (east, north)} detector-averaged view vectors (see TileAngles.view)."""
    sums = {band: np.zeros((2,) + shape) for band in L1C_BANDS}
    counts = {band: np.zeros(shape) for band in L1C_BANDS}
    for detector in _all(angles, 'Viewing_Incidence_Angles_Grids'):
        band = L1C_BANDS[int(detector.get('bandId'))]
        zenith, azimuth = (_grid(_first(detector, tag))[0] for tag in ('Zenith', 'Azimuth'))
        seen = np.isfinite(zenith) & np.isfinite(azimuth)
        east, north = _vector_grids(np.where(seen, zenith, 0.0), np.where(seen, azimuth, 0.0))
        sums[band] += np.stack([east, north]) * seen
        counts[band] += seen
    with np.errstate(invalid='ignore', divide='ignore'):
        return {band: tuple(sums[band] / counts[band]) for band in L1C_BANDS}


def _grid(element):
    """(values, (column step, row step)) of a Zenith or Azimuth grid; 'NaN' reads as NaN."""
    rows = [[float(v) for v in (e.text or '').split()] for e in _all(element, 'VALUES')]
    step = (abs(float(_text(element, 'COL_STEP'))), abs(float(_text(element, 'ROW_STEP'))))
    return np.array(rows, dtype=float), step


def _local(element):
    return element.tag.rsplit('}', 1)[-1]


def _all(element, tag):
    return (e for e in element.iter() if _local(e) == tag)


def _first(element, tag):
    return next(_all(element, tag), None)


def _text(element, tag):
    found = _first(element, tag)
    return (found.text or '').strip() if found is not None else ''
