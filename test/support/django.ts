import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { requireBinary, sqlite3 } from './tools.js';

/**
 * Debian's Django runs on Debian's Python (`python3-django` installs into /usr/lib/python3), which
 * is not always the `python3` first on the PATH; the tests name it.
 */
export const PYTHON = '/usr/bin/python3';

const MODELS = `from django.db import models


class CategoryManager(models.Manager):
    def get_by_natural_key(self, name):
        return self.get(name=name)


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    objects = CategoryManager()

    def natural_key(self):
        return (self.name,)


class Word(models.Model):
    term = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.CASCADE)
    note = models.TextField(blank=True)
`;

/** A fixture with natural keys: categories by name (no pk), words pointing at them by name. */
function initialFixture(words: number): string {
  const categories = ['Animals', 'Plants', 'Tools'];
  const objects: unknown[] = categories.map((name) => ({ model: 'catalog.category', fields: { name } }));
  for (let i = 1; i <= words; i++) objects.push({ model: 'catalog.word', pk: i, fields: { term: `word ${i} ✓`, category: [categories[i % 3]], note: i % 5 ? `line one\nline "two" ${i}` : '' } });
  return JSON.stringify(objects, null, 1);
}

export interface DjangoProject {
  dir: string;
  /** Runs `python3 manage.py ARGS` in the project and returns its stdout. */
  manage(args: string[], input?: string): string;
  /** Every word with its category's name, in id order: the data an operator compares. */
  words(): string;
}

/**
 * The drill recipe of the README: a settings module whose database is a new SQLite file in the
 * folder Lifeboat gives the drill command (`LIFEBOAT_DRILL_DIR`), migrated, then loaded from stdin.
 */
export function drillStep(site: DjangoProject): { argv: string[]; cwd: string; env: Record<string, string> } {
  writeFileSync(
    path.join(site.dir, 'site_conf', 'settings_drill.py'),
    "import os\n\nfrom .settings import *  # noqa: F401,F403\n\nDATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': os.path.join(os.environ['LIFEBOAT_DRILL_DIR'], 'drill.sqlite3')}}\n",
  );
  return {
    argv: ['sh', '-c', `${PYTHON} manage.py migrate --no-input -v 0 && exec ${PYTHON} manage.py loaddata --format=json -`],
    cwd: site.dir,
    env: { DJANGO_SETTINGS_MODULE: 'site_conf.settings_drill' },
  };
}

function project(dir: string): DjangoProject {
  return {
    dir,
    manage: (args, input) => execFileSync(PYTHON, ['manage.py', ...args], { cwd: dir, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] }),
    words: () => sqlite3(path.join(dir, 'db.sqlite3'), 'SELECT w.id, w.term, c.name, w.note FROM catalog_word w JOIN catalog_category c ON c.id = w.category_id ORDER BY w.id'),
  };
}

/**
 * A real Django project made once per test file with Debian's Django: `django-admin
 * startproject`, an app with two models and natural keys, migrated, with a fixture loaded.
 * `copy()` gives each test its own copy.
 */
export function useDjango(words = 60): () => { copy(dest: string): DjangoProject } {
  let template: string | undefined;
  beforeAll(() => {
    requireBinary('django-admin', 'python3-django');
    if (!existsSync(PYTHON)) throw new Error(`This test needs ${PYTHON} with Django: install the Debian package python3-django.`);
    template = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-django-'));
    const dir = path.join(template, 'site');
    mkdirSync(dir);
    execFileSync(PYTHON, ['-m', 'django', 'startproject', 'site_conf', dir], { stdio: 'pipe' });
    const p = project(dir);
    p.manage(['startapp', 'catalog']);
    writeFileSync(path.join(dir, 'catalog', 'models.py'), MODELS);
    appendFileSync(path.join(dir, 'site_conf', 'settings.py'), "\nINSTALLED_APPS += ['catalog']\n");
    mkdirSync(path.join(dir, 'catalog', 'fixtures'));
    writeFileSync(path.join(dir, 'catalog', 'fixtures', 'initial.json'), initialFixture(words));
    p.manage(['makemigrations', 'catalog']);
    p.manage(['migrate', '--no-input']);
    p.manage(['loaddata', 'initial']);
  });
  afterAll(() => {
    if (template) rmSync(template, { recursive: true, force: true });
  });
  return () => ({
    copy: (dest: string) => {
      if (!template) throw new Error('the Django project was not made');
      cpSync(path.join(template, 'site'), dest, { recursive: true });
      return project(dest);
    },
  });
}
