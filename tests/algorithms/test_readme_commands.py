"""The README's command-line block runs as written, on the bundled real product."""

import csv
import json
import os
import re
import shutil
import subprocess

import numpy as np
from conftest import REPO
from osgeo import gdal

OUT = os.path.join(REPO, 'build', 'readme')


def _readme_block():
    with open(os.path.join(REPO, 'README.md'), encoding='utf-8') as handle:
        text = handle.read()
    block = re.search(r'<!-- readme-commands:start -->\s*```bash\n(.*?)```', text, re.S)
    assert block, 'README.md lost its tested command block'
    return block.group(1)


def test_readme_command_line_block_runs_as_written():
    shutil.rmtree(OUT, ignore_errors=True)
    done = subprocess.run(['bash', '-euo', 'pipefail', '-c', _readme_block()], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert 's2cloudcnn:detectclouds' in done.stdout
    stack = gdal.Open(os.path.join(OUT, 'stack.tif'))
    assert stack.RasterCount == 13 and (stack.RasterXSize, stack.RasterYSize) == (154, 525)
    mask = gdal.Open(os.path.join(OUT, 't32upv_cnn.tif')).ReadAsArray()
    assert set(np.unique(mask)) <= {0, 1, 255}
    assert np.array_equal(mask, gdal.Open(os.path.join(OUT, 'model_mask.tif')).ReadAsArray())
    with open(os.path.join(OUT, 'metrics.csv'), encoding='utf-8') as handle:
        rows = list(csv.DictReader(handle))
    assert rows and 'fscore' in {key.lower() for key in rows[0]}
    with open(os.path.join(OUT, 'per_method.csv'), encoding='utf-8') as handle:
        methods = list(csv.DictReader(handle))
    assert [(m['method'], m['images']) for m in methods] == [('CNN', '1')]
    assert methods[0]['fscore_mean'] == methods[0]['fscore_pooled'] == rows[0]['fscore']
    with open(os.path.join(OUT, 'conv1.json'), encoding='utf-8') as handle:
        kernels = json.load(handle)
    assert kernels['model']['model_id'] == 's2cloudcnn-l1c13' and kernels['layer'] == 1
    for name in ('evaluation.html', 'summary.html', 'conv1_maps.html', 'model_report.html'):
        assert os.path.getsize(os.path.join(OUT, name)) > 500
