"""The datasets `make train` knows: what is read, how it is labelled, what is held out."""

import functools
import os
from dataclasses import dataclass, field

import numpy as np

from algorithms.core.detection.model_input import INTEGER_SCALE
from algorithms.core.grid import Window
from algorithms.core.sentinel2.bands import L1C_BANDS

from . import datasets, reserved
from .agreement import agreement_labels
from .atmosphere import sky_variants
from .config import REPO, STACKS, TrainConfig
from .patches import IGNORED, LabelledImage
from .synthetic import synthetic_images

BETSIBOKA = ('toa', 'betsiboka_toa13.tif')  # TOA reflectance x 10000, 13 bands, no offset
# Real L1C products big enough to train on (the Toulouse crops are 4 x 4 valid pixels at 60 m).
L1C_PRODUCTS = ('S2A_MSIL1C_20170430T103021_N0205_R108_T32UPV_20170430T103024.SAFE.zip',
                'S2A_OPER_PRD_MSIL1C_PDMC_20151207T180211_R108_V20151207T103733_'
                '20151207T103733.SAFE.zip')

# Free L1C scenes with a committed ALCD-style reference (the T32UPV 2017 strip is reserved).
FREE_L1C = {'T32UPV_20151207': L1C_PRODUCTS[1]}
REFERENCES = os.path.join(REPO, 'models', 'training', 'references')
# The l1c-references recipe: its sky variants make 35 images per scene, so twice the batches
# of the older recipes (chosen on the held-out free rows: F 0.93 with 300, 0.98 with 600).
REFERENCES_STEPS = 600

# Held-out On Cloud N chips: two with both classes from two countries, one all cloud, one all
# clear (a seeded draw gave a set with almost no cloud edges to validate on).
ONCLOUDN_HELDOUT = ('adxp', 'jaag', 'kgwg', 'khec')
# Held-out places of the location split (--split location), fixed before any cross-location
# result was seen: the two places with a single chip, so both places with several chips stay
# in training and the held-out part has cloud and clear pixels.
ONCLOUDN_HELDOUT_PLACES = ('Senanga', 'South America - Brazil')


@dataclass
class Dataset:
    """Training and held-out images plus the facts the model card and metadata need."""

    model_id: str
    bands: tuple
    resolution_m: float
    input_kind: str
    trained_on: str
    heldout_nature: str
    train: list
    heldout: list
    notes: list = field(default_factory=list)
    steps: int = 300  # batches per epoch of the dataset's recipe

    def label_counts(self):
        """Cloud / clear pixel counts of the training and held-out images."""
        return {part: {image.name: {'cloud': int((image.labels == 1).sum()),
                                    'clear': int((image.labels == 0).sum())}
                       for image in images}
                for part, images in (('train', self.train), ('heldout', self.heldout))}


def stack_product(product, stack_path):
    """Stack an L1C product (SAFE folder or zip) at 60 m with the plugin's own stacker."""
    from algorithms.core.sentinel2.stack import stack_l1c

    stack_l1c(product, stack_path)


def _stack_of(data, product, stacks):
    """The 60 m stack of an L1C product under data/l1c (made once in `stacks`)."""
    stack = os.path.join(stacks, product.split('.')[0] + '_60m.tif')
    if not os.path.exists(stack):
        source = datasets.require(os.path.join(data, 'l1c', product), 'L1C product')
        os.makedirs(stacks, exist_ok=True)
        stack_product(source, stack)
    return stack


@dataclass
class Scene:
    """One real scene: reflectance, the window of raster `grid` it covers, reserved pixels."""

    name: str
    reflectance: np.ndarray
    grid: str
    window: Window
    reserved: np.ndarray


class L1cScenes:
    """The free real L1C scenes under a data root (shared/data/README.md layout).

    Items are Scenes: first Betsiboka (TOA, its reserved blocks marked), then the 60 m stack
    (made once in `stacks`) of each product of `products` {scene name: file under l1c/} that
    is not reserved, with the `bands` in that order; each cropped to its valid pixels when
    `crop_valid` (Betsiboka is cropped only in `crop_betsiboka`).
    """

    def __init__(self, root: str, products: dict, stacks: str = STACKS,
                 bands: tuple = L1C_BANDS, crop_betsiboka: bool = True):
        self.root, self.stacks, self.bands = require_root(root), stacks, tuple(bands)
        self.products = {name: product for name, product in products.items()
                         if not reserved.is_reserved_product(product)}
        self.crop_betsiboka = crop_betsiboka

    def __len__(self) -> int:
        return 1 + len(self.products)

    def __getitem__(self, index: int) -> Scene:
        if index == 0:
            path = datasets.require(os.path.join(self.root, *BETSIBOKA), 'Betsiboka scene')
            reflectance = datasets.select_bands(
                path, datasets.read_image(path, INTEGER_SCALE), self.bands)
            scene = Scene('betsiboka', reflectance, path, Window(0, 0, *reflectance.shape[:0:-1]),
                          reserved.betsiboka_reserved(self.root))
            return _cropped(scene) if self.crop_betsiboka else scene
        name, product = list(self.products.items())[index - 1]
        stack = _stack_of(self.root, product, self.stacks)
        reflectance = datasets.select_bands(stack, datasets.read_image(stack), self.bands)
        return _cropped(Scene(name, reflectance, stack, Window(0, 0, *reflectance.shape[:0:-1]),
                              np.zeros(reflectance.shape[1:], bool)))


def require_root(root):
    """`root` if it exists (DatasetNotFoundError naming --data otherwise)."""
    return datasets.require(root, 'data root (toa/, l1c/, reserved/)')


def _cropped(scene):
    window = datasets.valid_window(scene.reflectance)
    return Scene(scene.name, datasets.crop(scene.reflectance, window), scene.grid, window,
                 datasets.crop(scene.reserved, window))


def free_l1c_stacks(data, stacks=STACKS):
    """(scene name, 60 m stack) of each shared L1C product with a committed reference."""
    for name, product in FREE_L1C.items():
        yield name, _stack_of(data, product, stacks)


def reference_scenes(data, stacks=STACKS):
    """(name, reflectance [13, h, w], ALCD classes [h, w], reserved [h, w]) per scene.

    Each free scene with a committed reference (models/training/references), cropped to its
    valid pixels; `reserved` marks the pixels kept for the independent test.
    """
    for scene in L1cScenes(data, FREE_L1C, stacks):
        classes = datasets.labels_on_grid(os.path.join(REFERENCES, f'{scene.name}_reference.tif'),
                                          scene.grid)
        yield scene.name, scene.reflectance, datasets.crop(classes, scene.window), scene.reserved


def _add_free_parts(images, reserved_mask, split, train, heldout):
    """Split each image (reserved pixels unlabelled first) into the train and held-out lists.

    Raises:
        ReservedPixelError: a part still holds a target on a reserved pixel.

    """
    for image in images:
        image.labels = reserved.without_reserved(image.labels, reserved_mask)
        train_part, heldout_part = split(image)
        reserved.check_not_reserved([train_part, heldout_part], reserved_mask)
        train.append(train_part)
        heldout.append(heldout_part)


def _product_scene_name(product):
    parts = product.split('_')
    return '_'.join(parts[:3] if 'OPER' not in product else parts[:2] + parts[7:8])


def _l1c_agreement(config):
    train, heldout, notes = [], [], []
    products = {_product_scene_name(product): product for product in L1C_PRODUCTS}
    scenes = L1cScenes(config.data_root(), products, config.stacks, crop_betsiboka=False)
    for index, scene in enumerate(scenes):
        labels, details = agreement_labels(scene.reflectance)
        notes.append(f"{scene.name}: {details['valid']} valid px, {details['cloud']} cloud and "
                     f"{details['clear']} clear by agreement, {details['disagree']} in conflict")
        image = LabelledImage(scene.name, scene.reflectance,
                              reserved.without_reserved(labels, scene.reserved))
        layers = synthetic_images(image, config.synthetic, seed=config.seed * 1000 + index)
        cut = datasets.split_column(image.labels, config.heldout_fraction)
        _add_free_parts([image, *layers], scene.reserved,
                        functools.partial(datasets.split_region, cut=cut), train, heldout)
    return Dataset(
        model_id='s2cloudcnn-l1c13-agreement', bands=L1C_BANDS, resolution_m=60.0,
        input_kind='toa_reflectance',
        trained_on='2 free real Sentinel-2 L1C scenes (Betsiboka/Madagascar TOA ~73 m outside '
                   'its reserved blocks; the T32UPV 2015-12-07 swath-edge strip at 60 m) labelled '
                   'where s2cloudless and Fmask-style rules confidently agree (uncertain '
                   'pixels excluded), plus synthetic clouds (two-stream model: cumulus, thin '
                   'low cloud, cirrus) composited on those scenes; no human or reference '
                   'masks; the easternmost 25 % of labelled pixels of each scene held out',
        heldout_nature='agreement with detector-consensus labels (real) and with exact '
                       'synthetic labels, in a held-out spatial region; not accuracy '
                       'against ground truth',
        train=train, heldout=heldout, notes=notes)


def _oncloudn(config):
    root = config.data_root('labelled', 'oncloudn')
    images = list(datasets.OnCloudN(root))
    agreement = {image.name: datasets.blue_rule_agreement(image) for image in images}
    usable = [i for i in images if agreement[i.name] >= config.label_screen]
    conflicting = [i for i in images if agreement[i.name] < config.label_screen]
    for image in conflicting:
        image.source = 'label-conflict'
    if config.split == 'location':
        held, split_text, conflicting = _oncloudn_places(root, usable, conflicting, config)
    else:
        held = _choose_heldout([i.name for i in usable], config, ONCLOUDN_HELDOUT)
        split_text = 'chip-level split'
    notes = [f'{name}: human label agrees with blue > 0.15 on {value:.2f} of pixels'
             for name, value in sorted(agreement.items())]
    screened_out = sorted(name for name, value in agreement.items() if value < config.label_screen)
    return Dataset(
        model_id='s2cloudcnn-rgbn', bands=datasets.ONCLOUDN_BANDS, resolution_m=10.0,
        input_kind='l2a_surface_reflectance',
        trained_on=f'On Cloud N chips (Sentinel-2 L2A B02 B03 B04 B08, 10 m, human labels): '
                   f'training chips {sorted(i.name for i in usable if i.name not in held)}; '
                   f'held-out chips {sorted(held)} ({split_text}); chips whose labels '
                   f'contradict their image (blue-rule agreement < {config.label_screen}) not '
                   f'trained on: {screened_out}',
        heldout_nature=f'agreement with human labels on held-out chips ({split_text}); '
                       "'label-conflict' = chips left out because their labels contradict "
                       'their image',
        train=[i for i in usable if i.name not in held],
        heldout=[i for i in usable if i.name in held] + conflicting, notes=notes)


def _oncloudn_places(root, usable, conflicting, config):
    """Held-out chip names of a location split, its description, the conflicts to score.

    No place has chips in both parts; screened-out chips of training places are neither
    trained on nor scored (they would not measure another place).
    """
    if config.heldout:
        raise ValueError('--heldout names chips, which a location split does not take: use '
                         '--heldout-places, or --split chip')
    places = datasets.read_chip_places(root)
    missing = sorted({i.name for i in usable + conflicting} - set(places))
    if missing:
        raise ValueError(f'chips {missing} have no location in {root}/chips.csv')
    known = sorted({places[i.name] for i in usable})
    held_places = _choose_heldout(known, config, ONCLOUDN_HELDOUT_PLACES,
                                  config.heldout_places, '--heldout-places')
    if held_places == set(known):
        raise ValueError(f'--heldout-places {sorted(held_places)} leaves no place to train on')
    held = {i.name for i in usable if places[i.name] in held_places}
    return (held, f'location split, held-out places {sorted(held_places)}',
            [i for i in conflicting if places[i.name] in held_places])


def _choose_heldout(names, config, preferred=(), chosen=None, option='--heldout'):
    """`chosen` (default config.heldout), else `preferred` if all are in `names`, else drawn.

    The draw is seeded (config.seed) and takes config.heldout_fraction of `names`.
    """
    chosen = config.heldout if chosen is None else chosen
    if not chosen and preferred and set(preferred) <= set(names):
        return set(preferred)
    if chosen:
        held = set(chosen)
        unknown = held - set(names)
        if unknown:
            raise ValueError(f'{option} names {sorted(unknown)} are not among {names}')
        return held
    count = max(1, int(round(len(names) * config.heldout_fraction)))
    order = np.random.default_rng(config.seed).permutation(len(names))
    return {names[i] for i in order[:count]}


def _alcd(config):
    if not config.data:
        raise datasets.DatasetNotFoundError(
            '--dataset alcd needs --data: the folder of ALCD reference products')
    images = list(datasets.AlcdReferences(config.data, config.stacks, stack_product))
    held = _choose_heldout([image.name for image in images], config)
    return Dataset(
        model_id='s2cloudcnn-alcd', bands=L1C_BANDS, resolution_m=60.0,
        input_kind='toa_reflectance',
        trained_on=f'ALCD reference masks (Baetens et al. 2019) of '
                   f'{len(images) - len(held)} L1C products in {config.data}',
        heldout_nature=f'agreement with ALCD reference masks of held-out products {sorted(held)}',
        train=[i for i in images if i.name not in held],
        heldout=[i for i in images if i.name in held])


def _pair(config):
    if not (config.image and config.labels):
        raise datasets.DatasetNotFoundError('--dataset pair needs --image and --labels')
    image = datasets.read_pair(datasets.require(config.image, 'image raster', '--image'),
                               datasets.require(config.labels, 'label raster', '--labels'),
                               config.cloud_values, config.clear_values, scale=config.scale)
    cut = datasets.split_column(image.labels, config.heldout_fraction)
    train, heldout = datasets.split_region(image, cut)
    values = {side: ','.join(map(str, getattr(config, f'{side}_values')))
              for side in ('cloud', 'clear')}
    return Dataset(
        model_id='s2cloudcnn-custom', bands=L1C_BANDS, resolution_m=60.0,
        input_kind='toa_reflectance',
        trained_on=f'{config.image} with labels {config.labels} (cloud {values["cloud"]}, '
                   f'clear {values["clear"]}), west part',
        heldout_nature='agreement with the given labels in the held-out east part',
        train=[train], heldout=[heldout])


def scene_images(image: LabelledImage, config: TrainConfig, seed: int) -> list:
    """A referenced scene, its sky variants (atmosphere.py), and synthetic clouds on each."""
    bases = [image, *sky_variants(image, config.atmospheres, config.illuminations, seed + 500)]
    images = []
    for number, base in enumerate(bases):
        images += [base, *synthetic_images(base, config.synthetic, seed + 100 * number,
                                           list(config.cloud_types))]
    return images


def reference_image(name: str, reflectance: np.ndarray, classes: np.ndarray,
                    reserved_mask: np.ndarray) -> LabelledImage:
    """A scene labelled by its reference: cloud, clear, or unknown (no data, not used, reserved)."""
    labels = datasets.map_classes(classes, datasets.ALCD_CLOUD, datasets.ALCD_CLEAR)
    labels[~np.isfinite(reflectance).all(axis=0)] = IGNORED
    return LabelledImage(name, reflectance, reserved.without_reserved(labels, reserved_mask))


def _l1c_references(config):
    train, heldout, notes = [], [], []
    scenes = reference_scenes(config.data_root(), config.stacks)
    for index, (name, reflectance, classes, reserved_mask) in enumerate(scenes):
        image = reference_image(name, reflectance, classes, reserved_mask)
        notes.append(f'{name}: {int((image.labels == 1).sum())} cloud, '
                     f'{int((image.labels == 0).sum())} clear reference pixels, '
                     f'{int(reserved_mask.sum())} reserved pixels never a target')
        _add_free_parts(scene_images(image, config, config.seed * 1000 + index), reserved_mask,
                        datasets.split_rows, train, heldout)
    return Dataset(
        model_id='s2cloudcnn-l1c13-references', steps=REFERENCES_STEPS,
        bands=L1C_BANDS, resolution_m=60.0,
        input_kind='toa_reflectance',
        trained_on='ALCD-style references (seeds placed by eye, random forest, uncertain '
                   'pixels and cloud/clear edges left out; models/training/references) of 2 '
                   'free real L1C scenes: Betsiboka/Madagascar TOA ~73 m outside its reserved '
                   'blocks, and the T32UPV 2015-12-07 swath-edge strip at 60 m; plus synthetic '
                   f'clouds ({", ".join(config.cloud_types)}; two-stream model) composited '
                   'on them and on their sky variants (other water vapour, aerosol and '
                   'illumination; atmosphere.py); no '
                   'reserved pixel is a target; in every 128-row band the last 48 rows held '
                   'out (16-row gaps)',
        heldout_nature='agreement with ALCD-style references (real) and with exact synthetic '
                       'labels, on held-out rows of free pixels; not accuracy against '
                       'independent ground truth',
        train=train, heldout=heldout, notes=notes)


# Dataset name (train.py --dataset) -> builder of its Dataset from a TrainConfig.
BUILDERS = {'l1c-references': _l1c_references, 'l1c-agreement': _l1c_agreement,
            'oncloudn': _oncloudn, 'alcd': _alcd, 'pair': _pair}


def load(config: TrainConfig) -> Dataset:
    """Build the Dataset named by config.dataset.

    Raises:
        DatasetNotFoundError: its files are not where the config says (names the option).

    """
    return BUILDERS[config.dataset](config)
