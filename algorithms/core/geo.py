"""Rectangles between coordinate reference systems."""


def transform_box(box, transform):
    """Return the bounding box of a box's four corners after an osr.CoordinateTransformation.

    Args:
        box: (xmin, ymin, xmax, ymax) in the transformation's source CRS.
        transform: the osr.CoordinateTransformation to the target CRS.

    Returns:
        (xmin, ymin, xmax, ymax) in the target CRS.
    """
    xmin, ymin, xmax, ymax = box
    corners = [transform.TransformPoint(x, y)[:2] for x in (xmin, xmax) for y in (ymin, ymax)]
    xs, ys = zip(*corners)
    return min(xs), min(ys), max(xs), max(ys)
