/** The classes of a class-conditional sample grid. Pure (no TF.js): the panel's page lays its grids out with it. */

/** `perClass` images of every class, class by class: the classes for a grid with one row per class. */
export function perClassClasses(classes: number, perClass: number): Int32Array {
  return Int32Array.from({ length: classes * perClass }, (_, n) => Math.floor(n / perClass));
}
