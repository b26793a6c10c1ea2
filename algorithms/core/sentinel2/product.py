"""Locate and describe a Sentinel-2 Level-1C product: its band files, UTM zones and radiometry."""

import os
import re
import xml.etree.ElementTree as ElementTree
import zipfile
from dataclasses import dataclass, field

from osgeo import gdal, osr

from ..errors import InvalidProductError
from ..raster_io import uses_gdal_exceptions
from .bands import L1C_BANDS, canonical_band_name

# ESA band file names end with the band: T32UPV_20170430T103021_B8A.jp2,
# S2A_OPER_MSI_L1C_TL_SGS__..._T32UPV_B01.jp2; L2A files add the resolution (_B02_10m.jp2).
_BAND_FILE = re.compile(r'(?:^|_)(B(?:0[1-9]|1[0-2]|8A))\.(?:jp2|tiff?)$', re.IGNORECASE)
_L2A_BAND_FILE = re.compile(r'_B(?:0[1-9]|1[0-2]|8A)_[126]0m\.jp2$', re.IGNORECASE)
_PRODUCT_MTD = re.compile(r'^(MTD_MSIL1C\.xml|S2[A-D]_OPER_MTD_SAFL1C_.*\.xml)$', re.IGNORECASE)
_L2A_MTD = re.compile(r'^(MTD_MSIL2A\.xml|S2[A-D]_(OPER|USER)_MTD_SAFL2A_.*\.xml)$', re.IGNORECASE)
_TILE_MTD = re.compile(r'^(MTD_TL|S2[A-D]_OPER_(MTD|MSI)_L1C_TL_.*)\.xml$', re.IGNORECASE)
_SENSING_DATE = re.compile(r'(20\d{6})T\d{6}')
# Baseline 04.00 (in operations from 2022-01-25) added RADIO_ADD_OFFSET = -1000 to L1C DNs.
OFFSET_BASELINE = (4, 0)
OFFSET_START_DATE = '20220125'
DEFAULT_QUANTIFICATION = 10000.0
NEW_OFFSET = -1000.0


@dataclass
class L1cProduct:
    """A Level-1C product: where its band files are and how to turn DNs into reflectance.

    Attributes:
        source: what the user gave (a path or a list of paths).
        kind: 'SAFE', 'SAFE zip', 'PDMC SAFE', 'PDMC SAFE zip' or 'band files'.
        product_id: the product name (SAFE folder name without .SAFE when known).
        sensing_time, spacecraft, processing_baseline: from the metadata ('' if unknown).
        quantification: QUANTIFICATION_VALUE (reflectance = (DN + offset) / quantification).
        offsets: RADIO_ADD_OFFSET per band name.
        band_files: {epsg: {band: [GDAL paths, one per granule]}}.
        grid_origins: {epsg: (x, y)} upper-left corner of the zone's 60 m tile grid.
        tile_metadata: {epsg: [GDAL paths of the granules' tile metadata]} (sun and view
            angles, see angles.py).
        notes: things the user should know (assumptions made), as sentences.

    """

    source: object
    kind: str
    product_id: str = ''
    sensing_time: str = ''
    spacecraft: str = ''
    processing_baseline: str = ''
    quantification: float = DEFAULT_QUANTIFICATION
    offsets: dict = field(default_factory=dict)
    band_files: dict = field(default_factory=dict)
    grid_origins: dict = field(default_factory=dict)
    tile_metadata: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    @property
    def epsg_codes(self):
        """EPSG codes of the UTM zones that hold a complete set of band files."""
        return sorted(self.band_files)

    @property
    def main_epsg(self):
        """The zone with most granules (ties: the lowest EPSG), the default output CRS."""
        return max(self.epsg_codes, key=lambda e: (len(self.band_files[e][L1C_BANDS[0]]), -e))

    def choose_epsg(self, epsg=None):
        """Return `epsg` if the product has data in it, the main zone if `epsg` is None.

        Raises:
            InvalidProductError: if the product has no granule in that CRS.

        """
        if epsg is None:
            return self.main_epsg
        if int(epsg) not in self.band_files:
            zones = ', '.join(f'EPSG:{e}' for e in self.epsg_codes)
            raise InvalidProductError(f'{self.product_id} has no granule in EPSG:{epsg}; '
                                      f'choose one of its UTM zones: {zones}')
        return int(epsg)

    def metadata(self):
        """Product metadata as written on the stack (default GDAL metadata domain)."""
        return {
            'PRODUCT_ID': self.product_id,
            'PRODUCT_FORMAT': self.kind,
            'SENSING_TIME': self.sensing_time,
            'SPACECRAFT': self.spacecraft,
            'PROCESSING_BASELINE': self.processing_baseline,
            'QUANTIFICATION_VALUE': f'{self.quantification:g}',
            'RADIO_ADD_OFFSET': ','.join(f'{self.offsets[b]:g}' for b in L1C_BANDS),
            'NOTES': ' '.join(self.notes),
        }


@uses_gdal_exceptions
def open_product(source) -> 'L1cProduct':
    """Describe the Level-1C product at `source`, checking that all 13 bands are there.

    Args:
        source: a SAFE folder, a zipped SAFE, a product metadata XML (MTD_MSIL1C.xml or the
            2015-2016 S2A_OPER_MTD_SAFL1C_*.xml), a folder of ESA-named band files
            (*_B01.jp2 ... *_B12.jp2, or .tif) or a list of such files.

    Returns:
        L1cProduct.

    Raises:
        InvalidProductError: if `source` is not a complete, readable Level-1C product.

    """
    if isinstance(source, (list, tuple)):
        return _from_band_files([str(p) for p in source], source)
    path = os.path.abspath(str(source))
    if not os.path.exists(path):
        raise InvalidProductError(f'{source} does not exist; give a Sentinel-2 L1C SAFE folder, '
                                  f'its .zip, its MTD_MSIL1C.xml or a folder of band files')
    if os.path.isfile(path) and path.lower().endswith('.zip'):
        return _from_zip(path)
    if os.path.isfile(path) and path.lower().endswith('.xml'):
        return _from_safe(os.path.dirname(path), _walk(os.path.dirname(path)), source,
                          mtd_name=os.path.basename(path))
    if os.path.isdir(path):
        names = os.listdir(path)
        if any(_PRODUCT_MTD.match(n) or _L2A_MTD.match(n) for n in names):
            return _from_safe(path, _walk(path), source)
        if 'IMG_DATA' in names:  # a granule folder: its band files are one level down
            path = os.path.join(path, 'IMG_DATA')
            names = os.listdir(path)
        files = [os.path.join(path, n) for n in sorted(names)]
        return _from_band_files([f for f in files if os.path.isfile(f)], source)
    return _from_band_files([path], source)


def _from_zip(path):
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not _is_resource_fork(n)]
    except (zipfile.BadZipFile, OSError) as error:
        raise InvalidProductError(f'{os.path.basename(path)} is not a readable zip ({error}); '
                                  f'download the product again') from error
    roots = {n.split('/')[0] for n in names if n.count('/') == 1 and n.endswith('.xml')}
    for root in sorted(roots):
        top = [n.split('/', 1)[1] for n in names if n.startswith(root + '/') and n.count('/') == 1]
        if any(_PRODUCT_MTD.match(n) or _L2A_MTD.match(n) for n in top):
            inner = [n.split('/', 1)[1] for n in names if n.startswith(root + '/')]
            return _from_safe(f'/vsizip/{path}/{root}', inner, path, zipped=True)
    raise InvalidProductError(f'{os.path.basename(path)} holds no Sentinel-2 product metadata '
                              f'(MTD_MSIL1C.xml); give a zipped Sentinel-2 L1C SAFE')


def _is_resource_fork(name):
    parts = name.split('/')
    return parts[0] == '__MACOSX' or parts[-1].startswith('._')


def _from_safe(root, names, source, zipped=False, mtd_name=None):
    """Describe a SAFE at `root` (a folder or /vsizip/ path) holding the files `names`."""
    candidates = [mtd_name] if mtd_name else [n for n in names if '/' not in n]
    if any(_L2A_MTD.match(n) for n in candidates):
        raise _l2a_error(os.path.basename(root))
    product_mtd = next((n for n in candidates if _PRODUCT_MTD.match(n)), None)
    if product_mtd is None:
        raise InvalidProductError(f'{mtd_name or root} is not a Sentinel-2 L1C product metadata '
                                  f'file; give MTD_MSIL1C.xml or the SAFE folder')
    pdmc = '_OPER_' in product_mtd
    kind = ('PDMC SAFE' if pdmc else 'SAFE') + (' zip' if zipped else '')
    product = L1cProduct(source=source, kind=kind)
    _read_product_metadata(product, f'{root}/{product_mtd}', os.path.basename(root))
    images = [n for n in names if '/IMG_DATA/' in f'/{n}' and not _is_resource_fork(n)]
    _add_band_files(product, [f'{root}/{n}' for n in images if _BAND_FILE.search(n)])
    for granule_mtd in (n for n in names if n.startswith('GRANULE/') and n.count('/') == 2
                        and _TILE_MTD.match(n.rsplit('/', 1)[1])):
        _read_grid_origin(product, f'{root}/{granule_mtd}')
    _check_complete(product)
    return product


def _walk(root):
    names = []
    for folder, _dirs, files in os.walk(root):
        relative = os.path.relpath(folder, root).replace(os.sep, '/')
        names += [f if relative == '.' else f'{relative}/{f}' for f in files]
    return names


def _l2a_error(name):
    return InvalidProductError(
        f'{name} is a Level-2A (surface reflectance) product; the model needs Level-1C '
        f'top-of-atmosphere reflectance with all 13 bands (L2A has no B10): '
        f'give the MSIL1C product')


def read_xml(path, what='metadata'):
    """The root element of an XML file, plain or inside /vsizip/.

    Raises:
        InvalidProductError: naming `what` when the file is missing or not XML.

    """
    try:
        handle = gdal.VSIFOpenL(path, 'rb')
        try:
            text = gdal.VSIFReadL(1, gdal.VSIStatL(path).size, handle)
        finally:
            gdal.VSIFCloseL(handle)
        return ElementTree.fromstring(text)
    except (RuntimeError, ElementTree.ParseError, AttributeError) as error:
        raise InvalidProductError(f'cannot read the {what} {path} ({error}); '
                                  f'the product is damaged: download it again') from error


def _xml_values(path):
    """Return {tag without namespace: [elements]} of an XML file (plain or inside /vsizip/)."""
    values = {}
    for element in read_xml(path).iter():
        values.setdefault(element.tag.rsplit('}', 1)[-1], []).append(element)
    return values


def _read_product_metadata(product, path, folder_name):
    values = _xml_values(path)

    def text(tag):
        return (values[tag][0].text or '').strip() if tag in values else ''

    level = text('PROCESSING_LEVEL').upper()
    if text('PRODUCT_TYPE').upper().endswith('2A') or 'LEVEL-2A' in level:
        raise _l2a_error(folder_name)
    uri = text('PRODUCT_URI')
    product.product_id = (uri if uri.startswith('S2') else folder_name).removesuffix('.SAFE')
    product.sensing_time = text('PRODUCT_START_TIME') or text('DATATAKE_SENSING_START')
    product.spacecraft = text('SPACECRAFT_NAME')
    product.processing_baseline = text('PROCESSING_BASELINE')
    product.quantification = float(text('QUANTIFICATION_VALUE') or DEFAULT_QUANTIFICATION)
    offsets = {int(e.get('band_id')): float(e.text) for e in values.get('RADIO_ADD_OFFSET', [])}
    product.offsets = {band: offsets.get(i, 0.0) for i, band in enumerate(L1C_BANDS)}
    if not offsets and _baseline(product.processing_baseline) >= OFFSET_BASELINE:
        raise InvalidProductError(f'{folder_name}: baseline {product.processing_baseline} '
                                  f'metadata lacks Radiometric_Offset_List; the product is damaged')


def _baseline(text):
    try:
        major, minor = text.split('.')
        return int(major), int(minor)
    except ValueError:
        return (0, 0)


def _read_grid_origin(product, path):
    values = _xml_values(path)
    for geoposition in values.get('Geoposition', []):
        if geoposition.get('resolution') == '60':
            codes = [e.text for e in values.get('HORIZONTAL_CS_CODE', [])]
            epsg = int(codes[0].split(':')[1]) if codes else None
            x, y = (float(geoposition.find(tag).text) for tag in ('ULX', 'ULY'))
            product.grid_origins.setdefault(epsg, (x, y))
            product.tile_metadata.setdefault(epsg, []).append(path)


def _add_band_files(product, paths):
    """Group band files by UTM zone (read from each file) and band name."""
    for path in sorted(paths):
        band = canonical_band_name(_BAND_FILE.search(os.path.basename(path)).group(1))
        epsg = _file_epsg(path)
        product.band_files.setdefault(epsg, {}).setdefault(band, []).append(path)


def _file_epsg(path):
    try:
        dataset = gdal.Open(path)
        srs = osr.SpatialReference(wkt=dataset.GetProjection())
        srs.AutoIdentifyEPSG()
        code = srs.GetAuthorityCode(None)
    except RuntimeError as error:
        raise InvalidProductError(f'cannot read the band file {path} ({error}); '
                                  f'the product is damaged: download it again') from error
    if not code:
        raise InvalidProductError(f'{path} has no EPSG coordinate system; '
                                  f'give the band files as ESA delivers them')
    return int(code)


def _check_complete(product):
    if not product.band_files:
        raise InvalidProductError(f'{product.product_id or product.source} holds no band files '
                                  f'(*_B01.jp2 ... *_B12.jp2); give a Sentinel-2 L1C product')
    for epsg, bands in product.band_files.items():
        missing = [b for b in L1C_BANDS if b not in bands]
        counts = {len(bands[b]) for b in L1C_BANDS if b in bands}
        if missing or len(counts) > 1:
            raise InvalidProductError(
                f'{product.product_id or product.source} (EPSG:{epsg}) lacks band file(s) '
                f'{", ".join(missing) or "in some granules"}; the model needs all 13 L1C bands: '
                f'download the complete product again')


def _from_band_files(paths, source):
    """Describe a set of single-band files, finding the product metadata above them if any."""
    if any(_L2A_BAND_FILE.search(p) for p in paths):
        raise _l2a_error(os.path.basename(str(source)))
    bands = [p for p in paths if _BAND_FILE.search(os.path.basename(p))
             and not os.path.basename(p).upper().startswith(('MSK_', '._'))]
    if not bands:
        raise InvalidProductError(f'{source} holds no Sentinel-2 band files; give a SAFE '
                                  f'folder, a zip, MTD_MSIL1C.xml or files named *_B01.jp2 ... '
                                  f'*_B12.jp2 (or .tif)')
    product = L1cProduct(source=source, kind='band files')
    for band_path in bands:
        mtd = _metadata_above(band_path)
        if mtd:
            _read_product_metadata(product, mtd, os.path.basename(os.path.dirname(mtd)))
            granule = os.path.dirname(os.path.dirname(os.path.abspath(band_path)))
            for name in sorted(n for n in os.listdir(granule) if _TILE_MTD.match(n)):
                _read_grid_origin(product, os.path.join(granule, name))
            break
    else:
        _assume_radiometry(product, os.path.basename(bands[0]))
    _add_band_files(product, bands)
    _check_complete(product)
    return product


def _metadata_above(path):
    """Product metadata of a SAFE the file lies in (IMG_DATA/GRANULE/<granule>/...), or None."""
    folder = os.path.dirname(os.path.abspath(path))
    for _level in range(4):
        folder = os.path.dirname(folder)
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            if _L2A_MTD.match(name):
                raise _l2a_error(os.path.basename(folder))
            if _PRODUCT_MTD.match(name):
                return os.path.join(folder, name)
    return None


def _assume_radiometry(product, file_name):
    match = _SENSING_DATE.search(file_name)
    date = match.group(1) if match else ''
    offset = NEW_OFFSET if date >= OFFSET_START_DATE else 0.0
    product.product_id = os.path.splitext(file_name)[0].rsplit('_', 1)[0]
    product.sensing_time = date
    product.offsets = {band: offset for band in L1C_BANDS}
    product.notes.append(
        f'No MTD_MSIL1C.xml found beside the band files: assumed QUANTIFICATION_VALUE 10000 and '
        f'RADIO_ADD_OFFSET {offset:g} from the sensing date {date or "(unknown)"} (baseline 04.00 '
        f'from 2022-01-25); a product reprocessed with another baseline would be off by 0.1.')
