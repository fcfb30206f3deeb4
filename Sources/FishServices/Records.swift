// The records the service layer speaks: runs, metrics, models, versions, aliases, audit entries,
// predictions, evaluation metrics and training settings. They are defined in FishRecords, below
// the store and the engines, so each fills them without a copy; the interfaces get them from here
// and never import a module below the service layer (see docs/architecture.md).
@_exported import FishRecords
