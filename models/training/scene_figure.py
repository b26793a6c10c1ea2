"""Whole-scene views: l1c13 on Betsiboka beside s2cloudless and its labels; rgbn on a chip.

Example: python -m models.training.scene_figure (writes results/s2cloudcnn-l1c13/betsiboka_*)
and python -m models.training.scene_figure kgwg (results/s2cloudcnn-rgbn/kgwg_*).
"""

import os
import sys

import numpy as np

from algorithms.core.detection.inference import read_model
from models.training import datasets, report
from models.training.agreement import agreement_labels
from models.training.config import REPO, default_data_root
from models.training.patches import row_patches, zero_bordered
from models.training.sources import L1cScenes

S2CLOUDLESS_THRESHOLD = 0.4  # s2cloudless's own default mask threshold


def predict_scene(model_path, reflectance, rows_per_run=16):
    """P(cloud) of every pixel of a [bands, H, W] reflectance array with an ONNX model."""
    metadata, session = read_model(model_path)
    bordered = zero_bordered(reflectance)
    height, width = reflectance.shape[1:]
    columns = np.arange(width)
    probability = np.zeros((height, width), np.float32)
    for first in range(0, height, rows_per_run):
        rows = range(first, min(height, first + rows_per_run))
        patches = np.concatenate([row_patches(bordered, row, columns) for row in rows])
        result = session.run(metadata.output_name, {metadata.input_name: patches})
        probability[first:first + len(rows)] = result.reshape(len(rows), width)
    return probability


def _figure(path, rgb, panels, cut=None, title=''):
    import matplotlib

    matplotlib.use('Agg')
    from matplotlib import pyplot

    height = 4.6 if cut is None else 6.5  # Betsiboka is taller than wide
    figure, axes = pyplot.subplots(1, 1 + len(panels), figsize=(4 * (1 + len(panels)), height))
    axes[0].imshow(rgb)
    axes[0].set_title('B04 B03 B02 (reflectance x 3)')
    for axis, (name, image, limits) in zip(axes[1:], panels):
        axis.imshow(image, vmin=limits[0], vmax=limits[1], cmap='viridis')
        axis.set_title(name)
    for axis in axes:
        if cut is not None:
            axis.axvline(cut, color='red', linewidth=1)
        axis.set_axis_off()
    figure.suptitle(title)
    figure.tight_layout(rect=(0, 0, 1, 0.94))
    figure.savefig(path, dpi=80)
    pyplot.close(figure)


def main(model_path=None, results=None):
    """Write the figure and the CNN-vs-s2cloudless agreement over all held-out pixels."""
    model_path = model_path or os.path.join(REPO, 'models', 's2cloudcnn-l1c13.onnx')
    results = results or os.path.join(REPO, 'models', 'training', 'results', 's2cloudcnn-l1c13')
    reflectance = L1cScenes(default_data_root(), {}, crop_betsiboka=False)[0].reflectance
    labels, details = agreement_labels(reflectance)
    cut = datasets.split_column(labels, 0.25)
    cnn = predict_scene(model_path, reflectance)
    s2c = details['s2cloudless_probability']
    valid = np.isfinite(reflectance).all(axis=0)
    valid[:, :cut] = False
    row = {'image': 'betsiboka held-out region, all valid pixels: CNN vs s2cloudless mask',
           **report.confusion_metrics(s2c[valid] >= S2CLOUDLESS_THRESHOLD, cnn[valid] >= 0.5)}
    report.write_csv(os.path.join(results, 'betsiboka_vs_s2cloudless.csv'),
                     report.METRIC_FIELDS, [row])
    rgb = np.clip(np.nan_to_num(reflectance[[3, 2, 1]]).transpose(1, 2, 0) * 3, 0, 1)
    _figure(os.path.join(results, 'betsiboka_scene.png'), rgb, [
        ('agreement labels (-1 none, 0, 1)', labels, (-1, 1)),
        ('s2cloudless probability', s2c, (0, 1)), ('CNN P(cloud)', cnn, (0, 1))], cut,
        'Betsiboka: right of the red line = held-out region')
    return row


def chip_figure(chip, model_path=None, results=None):
    """Figure of an On Cloud N chip: image, human labels, rgbn P(cloud)."""
    model_path = model_path or os.path.join(REPO, 'models', 's2cloudcnn-rgbn.onnx')
    results = results or os.path.join(REPO, 'models', 'training', 'results', 's2cloudcnn-rgbn')
    image = datasets.OnCloudN(os.path.join(default_data_root(), 'labelled', 'oncloudn'),
                              chips=[chip])[0]
    rgb = np.clip(image.reflectance[[2, 1, 0]].transpose(1, 2, 0) * 3, 0, 1)
    _figure(os.path.join(results, f'{chip}_labels_vs_cnn.png'), rgb, [
        ('human labels', image.labels, (0, 1)),
        ('CNN P(cloud)', predict_scene(model_path, image.reflectance), (0, 1))],
        title=f'On Cloud N chip {chip} (L2A B04 B03 B02 x 3)')


if __name__ == '__main__':
    if len(sys.argv) > 1:
        chip_figure(sys.argv[1])
    else:
        print(main())
