"""Folders that fail like real disks do: a full small disk and a read-only folder (tmpfs mounts)."""

import contextlib
import os
import subprocess

import pytest


def _mount(folder, options):
    """Mount a tmpfs on `folder`, or skip the test saying why it cannot be done here."""
    folder.mkdir(exist_ok=True)
    command = ['mount', '-t', 'tmpfs', '-o', options, 'tmpfs', str(folder)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f'cannot mount a tmpfs here ({result.stderr.strip() or "not root"}): the '
                    'full-disk and read-only cases need one')


@contextlib.contextmanager
def small_disk(folder, size='64k'):
    """Yield `folder` as a tmpfs of `size`: writing more than that fails with ENOSPC."""
    _mount(folder, f'size={size}')
    try:
        yield folder
    finally:
        subprocess.run(['umount', '-l', str(folder)], check=False)


@contextlib.contextmanager
def read_only_folder(folder):
    """Yield `folder` as a read-only folder (a read-only tmpfs for root, else chmod 555)."""
    if os.geteuid() != 0:
        folder.mkdir(exist_ok=True)
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    _mount(folder, 'ro,size=64k')
    try:
        yield folder
    finally:
        subprocess.run(['umount', '-l', str(folder)], check=False)
