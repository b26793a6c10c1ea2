"""The datasets `make train` knows: what is read, how it is labelled, what is held out."""

import functools
import os
from dataclasses import dataclass, field

import numpy as np

from algorithms.core.detection.model_input import INTEGER_SCALE
from algorithms.core.sentinel2.bands import L1C_BANDS

from . import datasets, reserved, synthetic
from .agreement import agreement_labels
from .generator import IGNORED, LabelledImage
from .synthetic import synthetic_images

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED_DATA = os.path.join(os.path.dirname(REPO), 'shared', 'data')
STACKS = os.path.join(REPO, 'build', 'training', 'stacks')
BETSIBOKA = ('toa', 'betsiboka_toa13.tif')  # TOA reflectance x 10000, 13 bands, no offset
# Real L1C products big enough to train on (the Toulouse crops are 4 x 4 valid pixels at 60 m).
L1C_PRODUCTS = ('S2A_MSIL1C_20170430T103021_N0205_R108_T32UPV_20170430T103024.SAFE.zip',
                'S2A_OPER_PRD_MSIL1C_PDMC_20151207T180211_R108_V20151207T103733_'
                '20151207T103733.SAFE.zip')

# Free L1C scenes with a committed ALCD-style reference (the T32UPV 2017 strip is reserved).
FREE_L1C = {'T32UPV_20151207': L1C_PRODUCTS[1]}
REFERENCES = os.path.join(REPO, 'models', 'training', 'references')
CLOUD_TYPES = ','.join(synthetic.DEFAULT_TYPES)

# Held-out On Cloud N chips: two with both classes from two countries, one all cloud, one all
# clear (a seeded draw gave a set with almost no cloud edges to validate on).
ONCLOUDN_HELDOUT = ('adxp', 'jaag', 'kgwg', 'khec')


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


def read_betsiboka(data=SHARED_DATA):
    """The shared Betsiboka scene as reflectance (unit 1) [13, H, W]."""
    return datasets.read_image(os.path.join(data, *BETSIBOKA), INTEGER_SCALE)


def _crop_to_valid(reflectance):
    valid = np.isfinite(reflectance).all(axis=0)
    rows, columns = np.flatnonzero(valid.any(axis=1)), np.flatnonzero(valid.any(axis=0))
    return reflectance[:, rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]


def _stack_of(data, product):
    """The 60 m stack of a shared L1C product (made once under build/training/stacks)."""
    stack = os.path.join(STACKS, product.split('.')[0] + '_60m.tif')
    if not os.path.exists(stack):
        os.makedirs(STACKS, exist_ok=True)
        stack_product(os.path.join(data, 'l1c', product), stack)
    return stack


def free_l1c_stacks(data):
    """(scene name, 60 m stack) of each shared L1C product with a committed reference."""
    for name, product in FREE_L1C.items():
        yield name, _stack_of(data, product)


def _valid_window(reflectance):
    valid = np.isfinite(reflectance).all(axis=0)
    rows, columns = np.flatnonzero(valid.any(axis=1)), np.flatnonzero(valid.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1)


def reference_scenes(data):
    """(name, reflectance [13, h, w], ALCD classes [h, w], reserved [h, w]) per scene.

    Each free scene with a committed reference (models/training/references), cropped to its
    valid pixels; `reserved` marks the pixels kept for the independent test.
    """
    scenes = [('betsiboka', read_betsiboka(data), os.path.join(data, *BETSIBOKA),
               reserved.betsiboka_reserved(data))]
    for name, stack in free_l1c_stacks(data):
        reflectance = datasets.select_bands(stack, datasets.read_image(stack), L1C_BANDS)
        scenes.append((name, reflectance, stack, np.zeros(reflectance.shape[1:], bool)))
    for name, reflectance, grid_of, reserved_mask in scenes:
        classes = datasets.labels_on_grid(os.path.join(REFERENCES, f'{name}_reference.tif'),
                                          grid_of)
        window = _valid_window(reflectance)
        yield name, reflectance[(slice(None), *window)], classes[window], reserved_mask[window]


def _l1c_scenes(data):
    """(name, reflectance, reserved mask) of Betsiboka and the free L1C products."""
    scenes = [('betsiboka', read_betsiboka(data), reserved.betsiboka_reserved(data))]
    for product in L1C_PRODUCTS:
        if reserved.is_reserved_product(product):
            continue
        stack = _stack_of(data, product)
        name = '_'.join(product.split('_')[:3] if 'OPER' not in product else
                        product.split('_')[:2] + product.split('_')[7:8])
        reflectance = datasets.select_bands(stack, datasets.read_image(stack), L1C_BANDS)
        reflectance = _crop_to_valid(reflectance)
        scenes.append((name, reflectance, np.zeros(reflectance.shape[1:], bool)))
    return scenes


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


def _l1c_agreement(args):
    data = args.data or SHARED_DATA
    train, heldout, notes = [], [], []
    for index, (name, reflectance, reserved_mask) in enumerate(_l1c_scenes(data)):
        labels, details = agreement_labels(reflectance)
        notes.append(f"{name}: {details['valid']} valid px, {details['cloud']} cloud and "
                     f"{details['clear']} clear by agreement, {details['disagree']} in conflict")
        image = LabelledImage(name, reflectance, reserved.without_reserved(labels,
                                                                            reserved_mask))
        layers = synthetic_images(image, args.synthetic, seed=args.seed * 1000 + index)
        cut = datasets.split_column(image.labels, args.heldout_fraction)
        _add_free_parts([image, *layers], reserved_mask,
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


def _oncloudn(args):
    root = args.data or os.path.join(SHARED_DATA, 'labelled', 'oncloudn')
    images = datasets.read_oncloudn(root)
    agreement = {image.name: datasets.blue_rule_agreement(image) for image in images}
    usable = [i for i in images if agreement[i.name] >= args.label_screen]
    conflicting = [i for i in images if agreement[i.name] < args.label_screen]
    for image in conflicting:
        image.source = 'label-conflict'
    names = [image.name for image in usable]
    if not args.heldout and set(ONCLOUDN_HELDOUT) <= set(names):
        args.heldout = ','.join(ONCLOUDN_HELDOUT)
    held = _choose_heldout(names, args)
    notes = [f'{name}: human label agrees with blue > 0.15 on {value:.2f} of pixels'
             for name, value in sorted(agreement.items())]
    return Dataset(
        model_id='s2cloudcnn-rgbn', bands=datasets.ONCLOUDN_BANDS, resolution_m=10.0,
        input_kind='l2a_surface_reflectance',
        trained_on=f'On Cloud N chips (Sentinel-2 L2A B02 B03 B04 B08, 10 m, human labels): '
                   f'training chips {sorted(i.name for i in usable if i.name not in held)}; '
                   f'held-out chips {sorted(held)}; chips whose labels contradict their '
                   f'image (blue-rule agreement < {args.label_screen}) not trained on: '
                   f'{sorted(i.name for i in conflicting)}',
        heldout_nature='agreement with human labels on held-out chips (chip-level split); '
                       "'label-conflict' = chips left out because their labels contradict "
                       'their image',
        train=[i for i in usable if i.name not in held],
        heldout=[i for i in usable if i.name in held] + conflicting, notes=notes)


def _choose_heldout(names, args):
    if args.heldout:
        held = set(args.heldout.split(','))
        unknown = held - set(names)
        if unknown:
            raise ValueError(f'--heldout names {sorted(unknown)} are not among {names}')
        return held
    count = max(1, int(round(len(names) * args.heldout_fraction)))
    order = np.random.default_rng(args.seed).permutation(len(names))
    return {names[i] for i in order[:count]}


def _alcd(args):
    if not args.data:
        raise ValueError('--dataset alcd needs --data: the folder of ALCD reference products')
    images = datasets.read_alcd(args.data, STACKS, stack_product)
    held = _choose_heldout([image.name for image in images], args)
    return Dataset(
        model_id='s2cloudcnn-alcd', bands=L1C_BANDS, resolution_m=60.0,
        input_kind='toa_reflectance',
        trained_on=f'ALCD reference masks (Baetens et al. 2019) of '
                   f'{len(images) - len(held)} L1C products in {args.data}',
        heldout_nature=f'agreement with ALCD reference masks of held-out products {sorted(held)}',
        train=[i for i in images if i.name not in held],
        heldout=[i for i in images if i.name in held])


def _integers(text):
    return tuple(int(value) for value in text.split(',') if value.strip())


def _pair(args):
    if not (args.image and args.labels):
        raise ValueError('--dataset pair needs --image and --labels')
    image = datasets.read_pair(args.image, args.labels, _integers(args.cloud_values),
                               _integers(args.clear_values), scale=args.scale)
    cut = datasets.split_column(image.labels, args.heldout_fraction)
    train, heldout = datasets.split_region(image, cut)
    return Dataset(
        model_id='s2cloudcnn-custom', bands=L1C_BANDS, resolution_m=60.0,
        input_kind='toa_reflectance',
        trained_on=f'{args.image} with labels {args.labels} (cloud {args.cloud_values}, '
                   f'clear {args.clear_values}), west part',
        heldout_nature='agreement with the given labels in the held-out east part',
        train=[train], heldout=[heldout])


def _l1c_references(args):
    data = args.data or SHARED_DATA
    train, heldout, notes = [], [], []
    types = args.cloud_types.split(',')
    for index, (name, reflectance, classes, reserved_mask) in enumerate(reference_scenes(data)):
        labels = datasets.map_classes(classes, datasets.ALCD_CLOUD, datasets.ALCD_CLEAR)
        labels[~np.isfinite(reflectance).all(axis=0)] = IGNORED
        image = LabelledImage(name, reflectance, reserved.without_reserved(labels,
                                                                            reserved_mask))
        layers = synthetic_images(image, args.synthetic, args.seed * 1000 + index, types)
        notes.append(f'{name}: {int((image.labels == 1).sum())} cloud, '
                     f'{int((image.labels == 0).sum())} clear reference pixels, '
                     f'{int(reserved_mask.sum())} reserved pixels never a target')
        _add_free_parts([image, *layers], reserved_mask, datasets.split_rows, train, heldout)
    return Dataset(
        model_id='s2cloudcnn-l1c13-references', bands=L1C_BANDS, resolution_m=60.0,
        input_kind='toa_reflectance',
        trained_on='ALCD-style references (seeds placed by eye, random forest, uncertain '
                   'pixels and cloud/clear edges left out; models/training/references) of 2 '
                   'free real L1C scenes: Betsiboka/Madagascar TOA ~73 m outside its reserved '
                   'blocks, and the T32UPV 2015-12-07 swath-edge strip at 60 m; plus synthetic '
                   f'clouds ({", ".join(types)}; two-stream model) composited on them; no '
                   'reserved pixel is a target; in every 128-row band the last 48 rows held '
                   'out (16-row gaps)',
        heldout_nature='agreement with ALCD-style references (real) and with exact synthetic '
                       'labels, on held-out rows of free pixels; not accuracy against '
                       'independent ground truth',
        train=train, heldout=heldout, notes=notes)


DATASETS = {'l1c-references': _l1c_references, 'l1c-agreement': _l1c_agreement,
            'oncloudn': _oncloudn, 'alcd': _alcd,
            'pair': _pair}


def load(args):
    """Build the Dataset named by args.dataset."""
    return DATASETS[args.dataset](args)

