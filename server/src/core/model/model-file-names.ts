/**
 * File names that mark a model folder, declared once. Kept free of imports so the language server's
 * scan can use them without loading the model code on the thread that answers requests.
 */

/** A TensorFlow SavedModel folder holds this file; the folder is the model. */
export const SAVED_MODEL_FILE = 'saved_model.pb';

/** A TF.js model (layers or graph) folder holds this file. */
export const TFJS_MODEL_FILE = 'model.json';
