"""Reading a `*.pixel.json` experiment the way the TS engine does: its defaults come from the same JSON Schema
(src/experiment/pixel-experiment.schema.json, copied to dist/ by the build), so the twin cannot drift from them.
The full validation with line and column numbers is the TS engine's (`pixel-lab train` or the editor); here the
problems that would stop training are named in one message each.
"""
import json
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA_PLACES = [os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pixel-experiment.schema.json'),  # pixel-lab export
                 os.path.join(REPO, 'src', 'experiment', 'pixel-experiment.schema.json'),
                 os.path.join(REPO, 'dist', 'pixel-experiment.schema.json')]


def _schema() -> dict:
    for place in SCHEMA_PLACES:
        if os.path.isfile(place):
            with open(place, encoding='utf8') as f:
                return json.load(f)
    raise FileNotFoundError(f'the experiment schema is missing (looked in {", ".join(SCHEMA_PLACES)})')


def _with_defaults(value, schema: dict):
    """Fill in every `default` of the schema's object properties, as ajv's useDefaults does."""
    if not isinstance(value, dict):
        return value
    out = dict(value)
    for key, sub in schema.get('properties', {}).items():
        if key not in out and 'default' in sub:
            out[key] = json.loads(json.dumps(sub['default']))
        if key in out:
            out[key] = _with_defaults(out[key], sub)
    return out


def experiment_name(file: str) -> str:
    base = os.path.basename(file)
    return base[:-len('.pixel.json')] if base.endswith('.pixel.json') else base[:-5] if base.endswith('.json') else base


def read_experiment(file: str) -> tuple:
    """(experiment with defaults, its text)."""
    with open(file, encoding='utf8') as f:
        text = f.read()
    try:
        raw = json.loads(text)
    except ValueError as e:
        raise ValueError(f'{file}: not valid JSON: {e}') from None
    for part in ('model', 'data'):
        if not isinstance(raw.get(part), dict):
            raise ValueError(f'{file}: an experiment needs a "{part}" object')
    e = _with_defaults(raw, _schema())
    e.setdefault('name', experiment_name(file))
    return e, text


def default_features(channels: int) -> dict:
    """Features when the experiment does not say (src/experiment/types.ts defaultFeatures): 16 and 32 for grey
    images, rounded up to a multiple of 3 (18 and 33) for colour, one group per colour."""
    groups = 3 if channels == 3 else 1
    return {'hidden': -(-16 // groups) * groups, 'outputHidden': -(-32 // groups) * groups}


def conditional_classes(e: dict, labels, class_names=None, source: str = 'the images'):
    """The number of classes of a conditional experiment from its images' labels, as src/experiment/types.ts
    conditionalClasses decides it: model.classes, else the class names' count or the largest label + 1. None when it
    is not conditional; a ValueError naming model.conditional (or model.classes) when the labels do not fit."""
    if not e['model'].get('conditional'):
        return None
    if labels is None:
        raise ValueError(f'model.conditional needs a class label for every image, and {source} came without labels')
    largest = int(labels.max()) if len(labels) else 0
    classes = e['model'].get('classes') or max(len(class_names or []), largest + 1)
    if largest >= classes:
        raise ValueError(f'model.classes is {classes}, but {source} have label {largest}: model.classes must be at least {largest + 1}')
    if classes < 2:
        raise ValueError(f'model.conditional: {source} have a single class; a conditional model needs at least 2')
    return classes


def model_config_of(e: dict, image: tuple, classes=None) -> dict:
    """The TS engine's ModelConfig for images of shape (height, width, channels): what a checkpoint records. A
    conditional experiment's number of classes is `classes` (conditional_classes), else model.classes."""
    model = {k: v for k, v in e['model'].items() if k not in ('conditional', 'classes')}
    if e['model'].get('conditional'):
        classes = classes or e['model'].get('classes')
        if not classes:
            raise ValueError('model.conditional: the number of classes comes from the data\'s labels (conditional_classes)')
        model['classes'] = classes
    levels = e['data']['levels']
    head = {'kind': 'bernoulli'} if levels == 2 else {'kind': 'categorical', 'levels': levels}
    image = {'height': image[0], 'width': image[1], 'channels': image[2]}
    return {**default_features(image['channels']), **model, 'image': image, 'head': head, 'seed': e['training']['seed']}
